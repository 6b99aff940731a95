//! The JSON plaintexts of legacy v2 messages (SPEC.md §11.6).
//!
//! | content type | payload | [`Payload`] |
//! |---|---|---|
//! | 0 (text) | `{"text": "..."}` | [`Payload::Text`] |
//! | 15 (location) | `{"location": {"latitude": f, "longitude": f, "address"?: s, "title"?: s}}` | [`Payload::Location`] |
//! | 1, 2, 3, 14 (image, video, audio, file) | `{"keyMaterial": base64(32 bytes), ...}` | [`Payload::Media`] |
//! | any other | not interpreted | [`Payload::Other`] (with [`Payload::parse_any`]) |
//!
//! Parsing is strict about what it reads and lenient about the rest: the text
//! must be UTF-8 and exactly one JSON object (RFC 8259: no `NaN` or `Infinity`,
//! no trailing data, no unpaired surrogate escapes); unknown fields are ignored;
//! a missing field, a field of the wrong type, or key material that is not
//! standard padded base64 of exactly 32 bytes is [`LegacyError::InvalidPayload`].
//!
//! **Location shapes.** SPEC §11.6 shows the nested object clients send, but
//! deployed clients have also been seen sending the coordinates at the top
//! level. The parser therefore reads the coordinates (and the optional
//! `address` and `title`) from the `location` object when the key `location`
//! is present — it must then be an object — and otherwise from the top level.
//! Coordinates must be JSON numbers (integers are accepted and read as `f64`,
//! booleans and strings are not); they are not range-checked. `address` and
//! `title`, when present and not `null`, must be strings. The builder always
//! writes the nested shape.
//!
//! Known limits of the JSON reader (`serde_json`): nesting deeper than 128
//! levels is rejected, and base64 with non-zero trailing bits (non-canonical)
//! is rejected.
//!
//! ```
//! use letterseal_legacy::LegacyError;
//! use letterseal_legacy::ids::LegacyContentType;
//! use letterseal_legacy::payload::{Location, Payload};
//!
//! let text = Payload::parse(LegacyContentType::TEXT, br#"{"text":"hi","extra":1}"#)?;
//! assert_eq!(text, Payload::Text("hi".into()));
//!
//! let flat = br#"{"latitude":35.68,"longitude":139.76}"#;
//! let nested = br#"{"location":{"latitude":35.68,"longitude":139.76}}"#;
//! let a = Payload::parse(LegacyContentType::LOCATION, flat)?;
//! assert_eq!(a, Payload::parse(LegacyContentType::LOCATION, nested)?);
//! assert_eq!(Payload::parse(LegacyContentType::LOCATION, &a.to_json())?, a);
//!
//! assert_eq!(
//!     Payload::parse(LegacyContentType::IMAGE, br#"{"keyMaterial":"c2hvcnQ="}"#),
//!     Err(LegacyError::InvalidPayload)
//! );
//! # Ok::<(), LegacyError>(())
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::LegacyError;
use super::ids::LegacyContentType;
use super::media::MediaKeyMaterial;

/// A location (content type 15).
///
/// ```
/// use letterseal_legacy::payload::Location;
///
/// let station = Location::new(35.6812, 139.7671)?
///     .with_title("Tokyo Station")
///     .with_address("1 Marunouchi, Chiyoda, Tokyo");
/// assert_eq!((station.latitude(), station.longitude()), (35.6812, 139.7671));
/// assert_eq!(station.title(), Some("Tokyo Station"));
/// assert_eq!(station.address(), Some("1 Marunouchi, Chiyoda, Tokyo"));
/// assert!(Location::new(f64::NAN, 0.0).is_err()); // coordinates must be finite
/// # Ok::<(), letterseal_legacy::LegacyError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    latitude: f64,
    longitude: f64,
    address: Option<String>,
    title: Option<String>,
}

impl Location {
    /// A location; both coordinates must be finite ([`LegacyError::InvalidPayload`]).
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, LegacyError> {
        if latitude.is_finite() && longitude.is_finite() {
            Ok(Self {
                latitude,
                longitude,
                address: None,
                title: None,
            })
        } else {
            Err(LegacyError::InvalidPayload)
        }
    }

    /// Adds an address.
    #[must_use]
    pub fn with_address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }

    /// Adds a title.
    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Latitude in degrees.
    pub fn latitude(&self) -> f64 {
        self.latitude
    }

    /// Longitude in degrees.
    pub fn longitude(&self) -> f64 {
        self.longitude
    }

    /// The address, if any.
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }

    /// The title, if any.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }
}

/// A parsed v2 plaintext (SPEC.md §11.6). `Debug` prints no content (the
/// kind and a length only).
///
/// ```
/// use letterseal_legacy::ids::LegacyContentType;
/// use letterseal_legacy::payload::Payload;
///
/// let sticker = LegacyContentType::new(7); // no payload format in SPEC.md §11.6
/// assert!(!Payload::has_format(sticker));
/// let other = Payload::parse_any(sticker, br#"{"stickerId":1}"#)?; // passed on as it is
/// assert!(matches!(other, Payload::Other(_)));
/// assert!(other.fits(sticker) && !other.fits(LegacyContentType::TEXT));
/// assert!(Payload::Text("hi".into()).fits(LegacyContentType::TEXT));
/// # Ok::<(), letterseal_legacy::LegacyError>(())
/// ```
#[derive(Clone, PartialEq)]
pub enum Payload {
    /// Content type 0.
    Text(String),
    /// Content type 15.
    Location(Location),
    /// Content types 1, 2, 3, 14: the attachment's key material.
    Media(MediaKeyMaterial),
    /// Any other content type: the plaintext as it is, not interpreted
    /// (zeroized on drop). Only [`Payload::parse_any`] gives it.
    Other(Zeroizing<Vec<u8>>),
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => write!(f, "Text(<{} bytes>)", text.len()),
            Self::Location(_) => f.write_str("Location(<location>)"),
            Self::Media(km) => write!(f, "Media({km:?})"),
            Self::Other(bytes) => write!(f, "Other(<{} bytes>)", bytes.len()),
        }
    }
}

impl Payload {
    /// Like [`Payload::parse`], but a content type without a payload format
    /// in SPEC.md §11.6 gives [`Payload::Other`] with the plaintext as it is
    /// instead of [`LegacyError::InvalidPayload`].
    pub fn parse_any(content_type: LegacyContentType, json: &[u8]) -> Result<Self, LegacyError> {
        if Self::has_format(content_type) {
            Self::parse(content_type, json)
        } else {
            Ok(Self::Other(Zeroizing::new(json.to_vec())))
        }
    }

    /// True for the content types §11.6 gives a format: 0, 15, 1, 2, 3, 14.
    pub fn has_format(content_type: LegacyContentType) -> bool {
        content_type == LegacyContentType::TEXT
            || content_type == LegacyContentType::LOCATION
            || content_type.is_media()
    }

    /// True if this payload is what `content_type` carries: text for 0,
    /// location for 15, media for 1/2/3/14, other for every other type.
    pub fn fits(&self, content_type: LegacyContentType) -> bool {
        match self {
            Self::Text(_) => content_type == LegacyContentType::TEXT,
            Self::Location(_) => content_type == LegacyContentType::LOCATION,
            Self::Media(_) => content_type.is_media(),
            Self::Other(_) => !Self::has_format(content_type),
        }
    }

    /// Parses the plaintext of a message of `content_type` (SPEC.md §11.6).
    /// Content types without a payload defined in §11.6 are
    /// [`LegacyError::InvalidPayload`] too: this parser cannot read them.
    pub fn parse(content_type: LegacyContentType, json: &[u8]) -> Result<Self, LegacyError> {
        match content_type {
            LegacyContentType::TEXT => parse_text(json).map(Self::Text),
            LegacyContentType::LOCATION => parse_location(json).map(Self::Location),
            media if media.is_media() => parse_key_material(json).map(Self::Media),
            _ => Err(LegacyError::InvalidPayload),
        }
    }

    /// The JSON text (UTF-8) for this payload (SPEC.md §11.6); for
    /// [`Payload::Other`], its bytes as they are.
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(match self {
            Self::Text(text) => text_json(text),
            Self::Location(location) => location_json(location),
            Self::Media(km) => media_json(km),
            Self::Other(bytes) => bytes.to_vec(),
        })
    }
}

/// One JSON object, or [`LegacyError::InvalidPayload`].
fn object(json: &[u8]) -> Result<Map<String, Value>, LegacyError> {
    match serde_json::from_slice::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(LegacyError::InvalidPayload),
    }
}

/// `{"text": "..."}` → the text (SPEC.md §11.6).
pub fn parse_text(json: &[u8]) -> Result<String, LegacyError> {
    match object(json)?.remove("text") {
        Some(Value::String(text)) => Ok(text),
        _ => Err(LegacyError::InvalidPayload),
    }
}

/// A location payload, nested or flat (see the module documentation) (SPEC.md §11.6).
pub fn parse_location(json: &[u8]) -> Result<Location, LegacyError> {
    let mut doc = object(json)?;
    let mut source = match doc.remove("location") {
        Some(Value::Object(nested)) => nested,
        Some(_) => return Err(LegacyError::InvalidPayload),
        None => doc,
    };
    let coordinate = |value: Option<Value>| match value {
        Some(Value::Number(n)) => n.as_f64().ok_or(LegacyError::InvalidPayload),
        _ => Err(LegacyError::InvalidPayload),
    };
    let optional_string = |value: Option<Value>| match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(LegacyError::InvalidPayload),
    };
    let mut location = Location::new(
        coordinate(source.remove("latitude"))?,
        coordinate(source.remove("longitude"))?,
    )?;
    location.address = optional_string(source.remove("address"))?;
    location.title = optional_string(source.remove("title"))?;
    Ok(location)
}

/// `{"keyMaterial": base64(32 bytes), ...}` → the key material (SPEC.md §11.6).
/// Standard alphabet, `=` padding required.
pub fn parse_key_material(json: &[u8]) -> Result<MediaKeyMaterial, LegacyError> {
    let Some(Value::String(encoded)) = object(json)?.remove("keyMaterial") else {
        return Err(LegacyError::InvalidPayload);
    };
    let decoded = zeroize::Zeroizing::new(
        STANDARD
            .decode(encoded.as_bytes())
            .map_err(|_| LegacyError::InvalidPayload)?,
    );
    MediaKeyMaterial::from_slice(&decoded).map_err(|_| LegacyError::InvalidPayload)
}

fn to_vec(value: &Value) -> Vec<u8> {
    // Serializing a `Value` into memory cannot fail: its keys are strings and
    // its numbers finite.
    serde_json::to_vec(value).unwrap_or_default()
}

/// `{"text": text}` (SPEC.md §11.6).
pub fn text_json(text: &str) -> Vec<u8> {
    let mut doc = Map::new();
    doc.insert("text".into(), Value::String(text.into()));
    to_vec(&Value::Object(doc))
}

/// `{"location": {"latitude": f, "longitude": f, "address"?: s, "title"?: s}}`
/// (SPEC.md §11.6).
pub fn location_json(location: &Location) -> Vec<u8> {
    let mut inner = Map::new();
    inner.insert("latitude".into(), Value::from(location.latitude));
    inner.insert("longitude".into(), Value::from(location.longitude));
    if let Some(address) = &location.address {
        inner.insert("address".into(), Value::String(address.clone()));
    }
    if let Some(title) = &location.title {
        inner.insert("title".into(), Value::String(title.clone()));
    }
    let mut doc = Map::new();
    doc.insert("location".into(), Value::Object(inner));
    to_vec(&Value::Object(doc))
}

/// `{"keyMaterial": base64(km)}`, standard padded base64 (SPEC.md §11.5, §11.6).
pub fn media_json(km: &MediaKeyMaterial) -> Vec<u8> {
    let mut doc = Map::new();
    doc.insert(
        "keyMaterial".into(),
        Value::String(STANDARD.encode(km.as_bytes())),
    );
    to_vec(&Value::Object(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCATION: LegacyContentType = LegacyContentType::LOCATION;

    #[test]
    fn text_round_trip() {
        for text in ["", "hello", "こんにちは 🙂", "quote \" and \\ and \n"] {
            let json = text_json(text);
            assert_eq!(parse_text(&json).unwrap(), text);
            assert_eq!(
                Payload::parse(LegacyContentType::TEXT, &json).unwrap(),
                Payload::Text(text.into())
            );
        }
        assert_eq!(
            parse_text(br#"{"text":"caf\u00e9 \ud83d\ude00"}"#).unwrap(),
            "café 😀"
        );
    }

    #[test]
    fn location_shapes() {
        let nested = parse_location(
            br#"{"location":{"latitude":35,"longitude":139.76,"address":"A","title":"T","x":1}}"#,
        )
        .unwrap();
        assert_eq!(nested.latitude(), 35.0);
        assert_eq!(nested.longitude(), 139.76);
        assert_eq!(nested.address(), Some("A"));
        assert_eq!(nested.title(), Some("T"));
        let flat =
            parse_location(br#"{"latitude":-33.8688,"longitude":151.2093,"title":null}"#).unwrap();
        assert_eq!((flat.latitude(), flat.longitude()), (-33.8688, 151.2093));
        assert_eq!(flat.title(), None);
        let built = Location::new(1.5, -2.25)
            .unwrap()
            .with_address("addr")
            .with_title("title");
        let json = location_json(&built);
        assert_eq!(parse_location(&json).unwrap(), built);
        assert_eq!(
            Payload::parse(LOCATION, &Payload::Location(built.clone()).to_json()).unwrap(),
            Payload::Location(built)
        );
        assert_eq!(
            Location::new(f64::NAN, 0.0),
            Err(LegacyError::InvalidPayload)
        );
        assert_eq!(
            Location::new(0.0, f64::INFINITY),
            Err(LegacyError::InvalidPayload)
        );
    }

    #[test]
    fn media_round_trip() {
        let km = MediaKeyMaterial::from_bytes([0x5a; 32]);
        let json = media_json(&km);
        for code in [1, 2, 3, 14] {
            assert_eq!(
                Payload::parse(LegacyContentType::new(code), &json).unwrap(),
                Payload::Media(km.clone())
            );
        }
        let extra = br#"{"keyMaterial":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","OID":"x"}"#;
        assert_eq!(parse_key_material(extra).unwrap().as_bytes(), &[0; 32]);
    }

    #[test]
    fn invalid_payloads() {
        let text = LegacyContentType::TEXT;
        let image = LegacyContentType::IMAGE;
        let cases: &[(LegacyContentType, &[u8])] = &[
            (text, b""),
            (text, b"hello"),
            (text, br#"{"text":"a"} x"#),
            (text, br#"{'text':'a'}"#),
            (text, b"{\"text\":\"\xc3(\"}"),
            (text, br#"{"text":"\ud83d"}"#),
            (text, br#"["text","a"]"#),
            (text, br#""text""#),
            (text, br#"{"text":42}"#),
            (text, br#"{"text":null}"#),
            (text, br#"{"message":"a"}"#),
            (text, b"\xef\xbb\xbf{\"text\":\"bom\"}"),
            (LOCATION, br#"{"latitude":NaN,"longitude":1.0}"#),
            (LOCATION, br#"{"latitude":1e400,"longitude":1.0}"#),
            (LOCATION, br#"{"location":{"longitude":139.7}}"#),
            (LOCATION, br#"{"title":"nowhere"}"#),
            (
                LOCATION,
                br#"{"location":{"latitude":"35.6","longitude":139.7}}"#,
            ),
            (LOCATION, br#"{"latitude":35.6,"longitude":true}"#),
            (LOCATION, br#"{"location":"Tokyo"}"#),
            (
                LOCATION,
                br#"{"location":{"latitude":1,"longitude":2,"title":5}}"#,
            ),
            (
                image,
                br#"{"keyMaterial":"ZssFkDdFTYBwyRQPmP0v/wpbptAwzSBAYmBoUPcyOA=="}"#,
            ),
            (image, br#"{"keyMaterial":""}"#),
            (image, br#"{"keyMaterial":"not base64 at all!!"}"#),
            (
                image,
                br#"{"keyMaterial":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
            ),
            (
                image,
                br#"{"keyMaterial":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-"}"#,
            ),
            (image, br#"{"keyMaterial":12345}"#),
            (image, br#"{"OID":"abc"}"#),
            (LegacyContentType::new(7), br#"{"text":"sticker"}"#),
        ];
        for (content_type, json) in cases {
            assert_eq!(
                Payload::parse(*content_type, json),
                Err(LegacyError::InvalidPayload),
                "{:?}",
                core::str::from_utf8(json)
            );
        }
    }

    #[test]
    fn debug_prints_no_content() {
        let payload = Payload::Media(MediaKeyMaterial::from_bytes([0xee; 32]));
        let text = alloc::format!("{payload:?}");
        assert!(!text.contains("238") && !text.contains("ee"), "{text}");
        let secret = Payload::Text("top secret".into());
        assert_eq!(alloc::format!("{secret:?}"), "Text(<10 bytes>)");
        let place = Payload::Location(Location::new(35.5, 139.5).unwrap());
        assert!(!alloc::format!("{place:?}").contains("35"));
        let other = Payload::Other(Zeroizing::new(b"sticker 42".to_vec()));
        assert_eq!(alloc::format!("{other:?}"), "Other(<10 bytes>)");
    }

    #[test]
    fn other_content_types() {
        let sticker = LegacyContentType::new(7);
        let json = br#"{"STKID":"52002734"}"#;
        assert_eq!(
            Payload::parse(sticker, json),
            Err(LegacyError::InvalidPayload)
        );
        let other = Payload::parse_any(sticker, json).unwrap();
        assert_eq!(other, Payload::Other(Zeroizing::new(json.to_vec())));
        assert_eq!(other.to_json().as_slice(), json);
        assert!(other.fits(sticker) && !other.fits(LegacyContentType::TEXT));
        // A media payload under a type that is not media is refused, not read as media.
        let media_json = media_json(&MediaKeyMaterial::from_bytes([9; 32]));
        assert_eq!(
            Payload::parse(LegacyContentType::IMAGE, &media_json),
            Ok(Payload::Media(MediaKeyMaterial::from_bytes([9; 32])))
        );
        assert_eq!(
            Payload::parse(sticker, &media_json),
            Err(LegacyError::InvalidPayload)
        );
        // Typed types stay strict.
        assert_eq!(
            Payload::parse_any(LegacyContentType::TEXT, b"{}"),
            Err(LegacyError::InvalidPayload)
        );
        let text = Payload::Text("x".into());
        assert!(text.fits(LegacyContentType::TEXT) && !text.fits(sticker));
        let media = Payload::Media(MediaKeyMaterial::from_bytes([1; 32]));
        assert!(media.fits(LegacyContentType::FILE) && !media.fits(LegacyContentType::LOCATION));
        let location = Payload::Location(Location::new(0.0, 0.0).unwrap());
        assert!(location.fits(LegacyContentType::LOCATION));
        assert!(!location.fits(LegacyContentType::IMAGE));
    }
}
