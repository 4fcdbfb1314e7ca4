//! The automerge-repo network protocol's frames: decoding that tolerates what real clients
//! send (CBOR `undefined`, floats for counts, unknown keys), encoding that real clients
//! accept (`data` as a CBOR byte string, `peerMetadata` under that key).

use ciborium::value::Value;

use crate::ids::CaseId;

/// The protocol version both sides speak.
pub const PROTOCOL_VERSION: &str = "1";

/// The header (on the login and on the sync upgrade) in which an app says which revision
/// of the case schema it writes ([`crate::schema::SCHEMA_REVISION`]). A server that needs a
/// later one answers 426 with `"error": "update_app"` and the revision it needs in
/// `"needed"`; nothing is exchanged. A WebSocket client that cannot set headers sends
/// `schema=<revision>` in the sync URL's query instead.
pub const SCHEMA_HEADER: &str = "fieldcase-schema";

/// The largest frame either side accepts (16 MiB: a whole large case with its history).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// A frame's `documentId`, parsed once, when the frame is decoded: a case id (the bs58check
/// of 16 bytes, as automerge-repo writes a `DocumentId`), or a text that names no case (any
/// automerge-repo peer may send one; it is answered as a document nobody holds, with the
/// same text).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DocumentId {
    Case(CaseId),
    NotACase(String),
}

impl DocumentId {
    /// The case this id names, if it names one.
    pub fn case(&self) -> Option<CaseId> {
        match self {
            DocumentId::Case(id) => Some(*id),
            DocumentId::NotACase(_) => None,
        }
    }
}

impl From<CaseId> for DocumentId {
    fn from(id: CaseId) -> Self {
        DocumentId::Case(id)
    }
}

impl From<&str> for DocumentId {
    fn from(text: &str) -> Self {
        match text.parse() {
            Ok(id) => DocumentId::Case(id),
            Err(_) => DocumentId::NotACase(text.to_string()),
        }
    }
}

impl From<String> for DocumentId {
    fn from(text: String) -> Self {
        match text.parse() {
            Ok(id) => DocumentId::Case(id),
            Err(_) => DocumentId::NotACase(text),
        }
    }
}

impl std::fmt::Display for DocumentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DocumentId::Case(id) => id.fmt(f),
            DocumentId::NotACase(text) => f.write_str(text),
        }
    }
}

/// A peer's self-description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerMetadata {
    pub storage_id: Option<String>,
    pub is_ephemeral: bool,
}

/// One protocol message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Client → server: the first frame.
    Join {
        sender_id: String,
        metadata: PeerMetadata,
        versions: Option<Vec<String>>,
    },
    /// Server → client: the answer to `join`.
    Peer {
        sender_id: String,
        target_id: String,
        metadata: PeerMetadata,
        version: String,
    },
    /// "I do not have this document; send it, or say it is unavailable."
    Request {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    /// An Automerge sync message for a document.
    Sync {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    /// The document does not exist or the receiver may not have it (the same answer).
    DocUnavailable {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
    },
    /// Something went wrong; `document_id` names the document a refusal is about.
    Error {
        sender_id: String,
        target_id: String,
        message: String,
        document_id: Option<DocumentId>,
        /// The kind of a refusal ([`crate::RefusalKind`]'s code); a fieldcase extension
        /// that other automerge-repo peers ignore.
        code: Option<String>,
    },
    /// Phone → server (a fieldcase extension, type `fieldcase-status`): how many of the
    /// phone's cases hold changes the server has not acknowledged, sent as a sync begins
    /// (`done: false`) and when it has ended (`done: true`). The server keeps the latest
    /// per device, so an administrator can tell whether a lost phone held unsynced work.
    Status {
        sender_id: String,
        unsynced_cases: u32,
        done: bool,
        /// The app's version, as it names itself (at most 64 printable characters).
        app_version: Option<String>,
    },
    /// A frame type this side does not act on (ephemeral, remote heads...).
    Other { kind: String, sender_id: String },
}

/// Why a frame could not be decoded (the reason is ours, never the frame's content).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed frame: {0}")]
pub struct FrameError(pub &'static str);

fn text(map: &[(Value, Value)], key: &str) -> Option<String> {
    map.iter().find_map(|(k, v)| match (k, v) {
        (Value::Text(k), Value::Text(v)) if k == key => Some(v.clone()),
        _ => None,
    })
}

fn field<'a>(map: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    map.iter().find_map(|(k, v)| match k {
        Value::Text(k) if k == key => Some(v),
        _ => None,
    })
}

fn metadata(v: Option<&Value>) -> PeerMetadata {
    let Some(Value::Map(m)) = v else {
        return PeerMetadata::default();
    };
    PeerMetadata {
        storage_id: text(m, "storageId"),
        is_ephemeral: matches!(field(m, "isEphemeral"), Some(Value::Bool(true))),
    }
}

fn encode_metadata(m: &PeerMetadata) -> Value {
    let mut out = vec![(
        Value::Text("isEphemeral".into()),
        Value::Bool(m.is_ephemeral),
    )];
    if let Some(s) = &m.storage_id {
        out.push((Value::Text("storageId".into()), Value::Text(s.clone())));
    }
    Value::Map(out)
}

impl Frame {
    /// Decodes one frame.
    pub fn decode(bytes: &[u8]) -> Result<Frame, FrameError> {
        if bytes.len() > MAX_FRAME {
            return Err(FrameError("frame too large"));
        }
        let value: Value = ciborium::de::from_reader(bytes).map_err(|_| FrameError("not CBOR"))?;
        let Value::Map(m) = value else {
            return Err(FrameError("not a CBOR map"));
        };
        let kind = text(&m, "type").ok_or(FrameError("no type"))?;
        let sender_id = text(&m, "senderId").ok_or(FrameError("no senderId"))?;
        let target = || text(&m, "targetId").unwrap_or_default();
        let doc = || {
            text(&m, "documentId")
                .map(DocumentId::from)
                .ok_or(FrameError("no documentId"))
        };
        let data = || match field(&m, "data") {
            Some(Value::Bytes(b)) => Ok(b.clone()),
            _ => Err(FrameError("data must be a byte string")),
        };
        Ok(match kind.as_str() {
            "join" => Frame::Join {
                sender_id,
                metadata: metadata(field(&m, "peerMetadata")),
                versions: match field(&m, "supportedProtocolVersions") {
                    Some(Value::Array(a)) => Some(
                        a.iter()
                            .filter_map(|v| v.as_text().map(str::to_string))
                            .collect(),
                    ),
                    _ => None,
                },
            },
            "peer" => Frame::Peer {
                sender_id,
                target_id: target(),
                metadata: metadata(field(&m, "peerMetadata")),
                version: text(&m, "selectedProtocolVersion")
                    .unwrap_or_else(|| PROTOCOL_VERSION.into()),
            },
            "request" => Frame::Request {
                sender_id,
                target_id: target(),
                document_id: doc()?,
                data: data()?,
            },
            "sync" => Frame::Sync {
                sender_id,
                target_id: target(),
                document_id: doc()?,
                data: data()?,
            },
            "doc-unavailable" => Frame::DocUnavailable {
                sender_id,
                target_id: target(),
                document_id: doc()?,
            },
            "error" => Frame::Error {
                sender_id,
                target_id: target(),
                message: text(&m, "message").unwrap_or_default(),
                document_id: text(&m, "documentId").map(DocumentId::from),
                code: text(&m, "code"),
            },
            "fieldcase-status" => Frame::Status {
                sender_id,
                unsynced_cases: match field(&m, "unsyncedCases") {
                    Some(Value::Integer(n)) => u32::try_from(i128::from(*n))
                        .map_err(|_| FrameError("unsyncedCases out of range"))?,
                    _ => return Err(FrameError("unsyncedCases must be a number")),
                },
                done: matches!(field(&m, "done"), Some(Value::Bool(true))),
                app_version: match text(&m, "appVersion") {
                    Some(v) if v.chars().count() > 64 || v.chars().any(char::is_control) => {
                        return Err(FrameError("appVersion must be short and printable"))
                    }
                    v => v,
                },
            },
            _ => Frame::Other { kind, sender_id },
        })
    }

    /// Encodes one frame.
    pub fn encode(&self) -> Vec<u8> {
        let t = |s: &str| Value::Text(s.to_string());
        let mut m: Vec<(Value, Value)> = Vec::new();
        let mut put = |k: &str, v: Value| m.push((t(k), v));
        match self {
            Frame::Join {
                sender_id,
                metadata,
                versions,
            } => {
                put("type", t("join"));
                put("senderId", t(sender_id));
                put("peerMetadata", encode_metadata(metadata));
                let vs = versions
                    .clone()
                    .unwrap_or_else(|| vec![PROTOCOL_VERSION.into()]);
                put(
                    "supportedProtocolVersions",
                    Value::Array(vs.into_iter().map(Value::Text).collect()),
                );
            }
            Frame::Peer {
                sender_id,
                target_id,
                metadata,
                version,
            } => {
                put("type", t("peer"));
                put("senderId", t(sender_id));
                put("targetId", t(target_id));
                put("peerMetadata", encode_metadata(metadata));
                put("selectedProtocolVersion", t(version));
            }
            Frame::Request {
                sender_id,
                target_id,
                document_id,
                data,
            }
            | Frame::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            } => {
                put(
                    "type",
                    t(if matches!(self, Frame::Request { .. }) {
                        "request"
                    } else {
                        "sync"
                    }),
                );
                put("senderId", t(sender_id));
                put("targetId", t(target_id));
                put("documentId", t(&document_id.to_string()));
                put("data", Value::Bytes(data.clone()));
            }
            Frame::DocUnavailable {
                sender_id,
                target_id,
                document_id,
            } => {
                put("type", t("doc-unavailable"));
                put("senderId", t(sender_id));
                put("targetId", t(target_id));
                put("documentId", t(&document_id.to_string()));
            }
            Frame::Error {
                sender_id,
                target_id,
                message,
                document_id,
                code,
            } => {
                put("type", t("error"));
                put("senderId", t(sender_id));
                put("targetId", t(target_id));
                put("message", t(message));
                if let Some(d) = document_id {
                    put("documentId", t(&d.to_string()));
                }
                if let Some(c) = code {
                    put("code", t(c));
                }
            }
            Frame::Status {
                sender_id,
                unsynced_cases,
                done,
                app_version,
            } => {
                put("type", t("fieldcase-status"));
                put("senderId", t(sender_id));
                put("unsyncedCases", Value::Integer((*unsynced_cases).into()));
                put("done", Value::Bool(*done));
                if let Some(v) = app_version {
                    put("appVersion", t(v));
                }
            }
            Frame::Other { kind, sender_id } => {
                put("type", t(kind));
                put("senderId", t(sender_id));
            }
        }
        let mut out = Vec::new();
        ciborium::ser::into_writer(&Value::Map(m), &mut out).expect("CBOR into a Vec cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let frames = vec![
            Frame::Join {
                sender_id: "peer-1".into(),
                metadata: PeerMetadata {
                    storage_id: Some("s".into()),
                    is_ephemeral: false,
                },
                versions: Some(vec!["1".into()]),
            },
            Frame::Peer {
                sender_id: "server".into(),
                target_id: "peer-1".into(),
                metadata: PeerMetadata::default(),
                version: "1".into(),
            },
            Frame::Request {
                sender_id: "a".into(),
                target_id: "b".into(),
                document_id: CaseId::random().into(),
                data: vec![1, 2, 3],
            },
            Frame::Sync {
                sender_id: "a".into(),
                target_id: "b".into(),
                document_id: CaseId::random().into(),
                data: vec![0; 100],
            },
            Frame::DocUnavailable {
                sender_id: "a".into(),
                target_id: "b".into(),
                document_id: "x".into(),
            },
            Frame::DocUnavailable {
                sender_id: "a".into(),
                target_id: "b".into(),
                document_id: CaseId::random().into(),
            },
            Frame::Error {
                sender_id: "a".into(),
                target_id: "b".into(),
                message: "no".into(),
                document_id: Some("d".into()),
                code: Some("limit".into()),
            },
            Frame::Status {
                sender_id: "a".into(),
                unsynced_cases: 3,
                done: true,
                app_version: Some("fieldcase 0.1.0".into()),
            },
        ];
        for f in frames {
            assert_eq!(Frame::decode(&f.encode()).unwrap(), f);
        }
    }

    #[test]
    fn a_status_carries_a_bounded_count() {
        let frame = |count: Value| {
            let mut out = Vec::new();
            ciborium::ser::into_writer(
                &Value::Map(vec![
                    (
                        Value::Text("type".into()),
                        Value::Text("fieldcase-status".into()),
                    ),
                    (Value::Text("senderId".into()), Value::Text("p".into())),
                    (Value::Text("unsyncedCases".into()), count),
                    (Value::Text("done".into()), Value::Bool(true)),
                ]),
                &mut out,
            )
            .unwrap();
            out
        };
        assert_eq!(
            Frame::decode(&frame(Value::Integer(7.into()))).unwrap(),
            Frame::Status {
                sender_id: "p".into(),
                unsynced_cases: 7,
                done: true,
                app_version: None,
            }
        );
        let long = |v: &str| {
            let mut out = Vec::new();
            ciborium::ser::into_writer(
                &Value::Map(vec![
                    (
                        Value::Text("type".into()),
                        Value::Text("fieldcase-status".into()),
                    ),
                    (Value::Text("senderId".into()), Value::Text("p".into())),
                    (
                        Value::Text("unsyncedCases".into()),
                        Value::Integer(1.into()),
                    ),
                    (Value::Text("appVersion".into()), Value::Text(v.into())),
                ]),
                &mut out,
            )
            .unwrap();
            Frame::decode(&out)
        };
        assert!(long("fieldcase 0.1.0").is_ok());
        assert!(long(&"x".repeat(65)).is_err(), "too long");
        assert!(long("1.0\u{1b}[31m").is_err(), "a control character");
        for bad in [
            Value::Integer((-1).into()),
            Value::Integer((u64::from(u32::MAX) + 1).into()),
            Value::Text("7".into()),
        ] {
            assert!(Frame::decode(&frame(bad.clone())).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn data_is_a_byte_string_on_the_wire() {
        let f = Frame::Sync {
            sender_id: "a".into(),
            target_id: "b".into(),
            document_id: "d".into(),
            data: vec![7; 3],
        };
        assert_eq!(
            Frame::decode(&f.encode()).unwrap(),
            f,
            "an id that names no case goes back as it came"
        );
        let bytes = f.encode();
        // CBOR major type 2 (byte string) of length 3: 0x43.
        assert!(bytes.windows(4).any(|w| w == [0x43, 7, 7, 7]));
    }

    #[test]
    fn a_document_id_is_parsed_once_when_the_frame_is_decoded() {
        let id = CaseId::random();
        for (text, want) in [
            (id.to_string(), DocumentId::Case(id)),
            (format!("automerge:{id}"), DocumentId::Case(id)),
            (
                "not-a-document".to_string(),
                DocumentId::NotACase("not-a-document".into()),
            ),
        ] {
            let f = Frame::Sync {
                sender_id: "a".into(),
                target_id: "b".into(),
                document_id: DocumentId::NotACase(text.clone()),
                data: vec![],
            };
            match Frame::decode(&f.encode()).unwrap() {
                Frame::Sync { document_id, .. } => assert_eq!(document_id, want, "{text}"),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(DocumentId::from(id.to_string()).case(), Some(id));
        assert_eq!(DocumentId::from("x").case(), None);
    }

    #[test]
    fn tolerant_and_strict_where_it_matters() {
        // undefined storageId and extra keys are fine.
        let v = Value::Map(vec![
            (Value::Text("type".into()), Value::Text("join".into())),
            (Value::Text("senderId".into()), Value::Text("p".into())),
            (
                Value::Text("peerMetadata".into()),
                Value::Map(vec![(Value::Text("storageId".into()), Value::Null)]),
            ),
            (Value::Text("extra".into()), Value::Float(1.5)),
        ]);
        let mut b = Vec::new();
        ciborium::ser::into_writer(&v, &mut b).unwrap();
        assert!(matches!(Frame::decode(&b), Ok(Frame::Join { .. })));
        // data as an array of integers is refused.
        let v = Value::Map(vec![
            (Value::Text("type".into()), Value::Text("sync".into())),
            (Value::Text("senderId".into()), Value::Text("p".into())),
            (Value::Text("documentId".into()), Value::Text("d".into())),
            (
                Value::Text("data".into()),
                Value::Array(vec![Value::Integer(1.into())]),
            ),
        ]);
        let mut b = Vec::new();
        ciborium::ser::into_writer(&v, &mut b).unwrap();
        assert!(Frame::decode(&b).is_err());
        for garbage in [&b""[..], b"\xff\xff", b"\x01", &[0xa1, 0x61][..]] {
            assert!(Frame::decode(garbage).is_err());
        }
    }
}
