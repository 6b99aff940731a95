//! Attachment steps (SPEC.md §9). Inputs and outputs are documented in
//! `test-vectors/README.md`.

use alloc::string::String;

use serde_json::{Map, Value};

use super::outputs;
use crate::attachment::{
    AttachmentOpener, AttachmentSealer, FileDescriptor, FileKey, RandomAccess,
};
use crate::vectors::{CaseError, Inputs, StepOutput, hex_string};

fn error(e: crate::attachment::AttachmentError) -> CaseError {
    CaseError::Protocol(e.name())
}

fn chunk_size(input: &Inputs<'_>) -> Result<u32, CaseError> {
    u32::try_from(input.u64("chunkSize")?).map_err(|_| CaseError::BadInput("chunkSize".into()))
}

/// §9.2: seal a whole file with a given key and salt.
pub(super) fn seal(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let media = input
        .value("mediaType")?
        .as_str()
        .ok_or_else(|| CaseError::BadInput("mediaType must be a string".into()))?;
    let mut sealer = AttachmentSealer::with_key(
        FileKey::from_bytes(input.array("fileKey")?),
        input.array("salt")?,
        chunk_size(&input)?,
        media,
    )
    .map_err(error)?;
    let mut blob = sealer.header().to_vec();
    blob.extend(sealer.update(&input.bytes("plaintext")?).map_err(error)?);
    let (last, descriptor) = sealer.finish().map_err(error)?;
    blob.extend(last);
    outputs([
        ("blob", hex_string(&blob)),
        ("descriptor", hex_string(&descriptor.encode())),
    ])
}

/// §9.3: open a whole blob (fed in one piece) with its descriptor.
pub(super) fn open(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let descriptor = FileDescriptor::decode(&input.bytes("descriptor")?).map_err(error)?;
    let mut opener = AttachmentOpener::new(&descriptor);
    let mut plaintext = opener
        .update(&input.bytes("blob")?)
        .map_err(error)?
        .to_vec();
    plaintext.extend_from_slice(&opener.finish().map_err(error)?);
    outputs([("plaintext", hex_string(&plaintext))])
}

/// §9.3: random access to one chunk.
pub(super) fn chunk(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let descriptor = FileDescriptor::decode(&input.bytes("descriptor")?).map_err(error)?;
    let access = RandomAccess::new(&descriptor, &input.bytes("header")?).map_err(error)?;
    let index =
        u32::try_from(input.u64("index")?).map_err(|_| CaseError::BadInput("index".into()))?;
    let plaintext = access
        .open_chunk(index, &input.bytes("chunk")?)
        .map_err(error)?;
    outputs([("plaintext", hex_string(&plaintext))])
}
