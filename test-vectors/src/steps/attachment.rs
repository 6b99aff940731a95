//! Attachment steps (SPEC.md §9). Inputs and outputs are documented in
//! `test-vectors/README.md`.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::outputs;
use crate::{CaseError, Inputs, StepOutput, hex_string};
use letterseal::attachment::{
    AttachmentError, AttachmentOpener, AttachmentSealer, BindingMode, ContentDigest,
    FileDescriptor, FileKey, RandomAccess, hedged_key_and_salt, open_into,
};

fn error(e: AttachmentError) -> CaseError {
    CaseError::Protocol(e.name())
}

fn chunk_size(input: &Inputs<'_>) -> Result<u32, CaseError> {
    u32::try_from(input.u64("chunkSize")?).map_err(|_| CaseError::BadInput("chunkSize".into()))
}

fn media(input: &Inputs<'_>) -> Result<String, CaseError> {
    input
        .value("mediaType")?
        .as_str()
        .map(String::from)
        .ok_or_else(|| CaseError::BadInput("mediaType must be a string".into()))
}

/// Feeds a whole plaintext to a sealer; returns the blob and the descriptor.
fn seal_all(
    mut sealer: AttachmentSealer,
    plaintext: &[u8],
) -> Result<(Vec<u8>, FileDescriptor), CaseError> {
    let mut blob = sealer.header().to_vec();
    blob.extend(sealer.update(plaintext).map_err(error)?);
    let (last, descriptor) = sealer.finish().map_err(error)?;
    blob.extend(last);
    Ok((blob, descriptor))
}

/// §9.2, §9.4: seal a whole file with a given key, salt and binding (`content` or `unbound`).
pub(super) fn seal(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let binding = match input.value("binding")?.as_str() {
        Some("content") => BindingMode::Content,
        Some("unbound") => BindingMode::Unbound,
        _ => return Err(CaseError::BadInput("binding: content or unbound".into())),
    };
    let sealer = AttachmentSealer::with_key_and_binding(
        FileKey::from_bytes(input.array("fileKey")?),
        input.array("salt")?,
        chunk_size(&input)?,
        &media(&input)?,
        binding,
    )
    .map_err(error)?;
    let (blob, descriptor) = seal_all(sealer, &input.bytes("plaintext")?)?;
    outputs([
        ("blob", hex_string(&blob)),
        ("descriptor", hex_string(&descriptor.encode())),
    ])
}

/// §9.1: hedged sealing from 32 bytes of randomness and the content digest.
pub(super) fn seal_hedged(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let randomness = input.array("randomness")?;
    let chunk_size = chunk_size(&input)?;
    let media = media(&input)?;
    let plaintext = input.bytes("plaintext")?;
    let content = ContentDigest::of(&plaintext);
    let sealer =
        AttachmentSealer::new_hedged_with_randomness(&randomness, &content, chunk_size, &media)
            .map_err(error)?;
    let (blob, descriptor) = seal_all(sealer, &plaintext)?;
    let (file_key, salt) = hedged_key_and_salt(&randomness, &content, chunk_size);
    if file_key != descriptor.file_key || blob.get(6..22) != Some(&salt[..]) {
        return Err(CaseError::BadInput(
            "hedged key and salt differ from the sealer's".into(),
        ));
    }
    outputs([
        ("contentDigest", hex_string(content.as_bytes())),
        ("fileKey", hex_string(file_key.as_bytes())),
        ("salt", hex_string(&salt)),
        ("blob", hex_string(&blob)),
        ("descriptor", hex_string(&descriptor.encode())),
    ])
}

/// §9.3: open a whole blob (fed in one piece) with its descriptor, through the streaming
/// opener and through the opener that releases nothing before the verdict; both must agree.
pub(super) fn open(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let descriptor = FileDescriptor::decode(&input.bytes("descriptor")?).map_err(error)?;
    let blob = input.bytes("blob")?;
    let mut opener = AttachmentOpener::new(&descriptor);
    let streamed = opener.update(&blob).and_then(|first| {
        let mut plaintext = first.to_vec();
        plaintext.extend_from_slice(&opener.finish()?);
        Ok(plaintext)
    });
    // The verified opener needs a buffer of the descriptor's size: only for sizes a test
    // vector can have.
    if descriptor.size <= 1 << 20 {
        let mut out = alloc::vec![0u8; descriptor.size as usize];
        let verified = open_into(&descriptor, &blob, &mut out).map(|()| out);
        if verified != streamed {
            return Err(CaseError::BadInput(alloc::format!(
                "the streaming and the verified opener disagree: {:?} / {:?}",
                streamed.as_ref().map(Vec::len),
                verified.as_ref().map(Vec::len)
            )));
        }
    }
    let plaintext = streamed.map_err(error)?;
    outputs([("plaintext", hex_string(&plaintext))])
}

/// §9.3: random access to one chunk, out of place and in place (both must agree).
pub(super) fn chunk(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let descriptor = FileDescriptor::decode(&input.bytes("descriptor")?).map_err(error)?;
    let header = input.bytes("header")?;
    let access = RandomAccess::new(&descriptor, &header).map_err(error)?;
    let index =
        u32::try_from(input.u64("index")?).map_err(|_| CaseError::BadInput("index".into()))?;
    let sealed = input.bytes("chunk")?;
    let plaintext = access.open_chunk(index, &sealed);
    let mut in_place = sealed.clone();
    let again = access
        .open_chunk_in_place(index, &mut in_place)
        .map(|p| p.to_vec());
    if again != plaintext.as_ref().map(|p| p.to_vec()).map_err(|e| *e) {
        return Err(CaseError::BadInput(
            "open_chunk and open_chunk_in_place disagree".into(),
        ));
    }
    outputs([("plaintext", hex_string(&plaintext.map_err(error)?))])
}
