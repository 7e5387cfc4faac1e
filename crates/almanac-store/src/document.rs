//! Documents: market data, scenario sets and assumption sets, content-addressed and versioned
//! by name with parent links, like git commits.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::digest::sha256_hex;
use crate::validate::{require_non_empty, require_timestamp};
use crate::StoreError;

/// What a document holds. The kind is part of the id, so the same body stored as two kinds
/// gives two documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DocumentKind {
    /// Market data (curves, FX, fixings). Id prefix `mkt-`, stored as `market`.
    Market,
    /// A set of scenarios. Id prefix `scn-`, stored as `scenario_set`.
    ScenarioSet,
    /// An assumption set (behavioural models, new business). Id prefix `asm-`, stored as
    /// `assumptions`.
    Assumptions,
}

impl DocumentKind {
    /// Every kind, in declaration order.
    pub const ALL: [DocumentKind; 3] = [
        DocumentKind::Market,
        DocumentKind::ScenarioSet,
        DocumentKind::Assumptions,
    ];

    /// The name stored in the database and used by [`FromStr`] and [`Display`](fmt::Display):
    /// `market`, `scenario_set`, `assumptions`.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Market => "market",
            DocumentKind::ScenarioSet => "scenario_set",
            DocumentKind::Assumptions => "assumptions",
        }
    }

    /// The id prefix: `mkt-`, `scn-`, `asm-`.
    pub fn id_prefix(self) -> &'static str {
        match self {
            DocumentKind::Market => "mkt-",
            DocumentKind::ScenarioSet => "scn-",
            DocumentKind::Assumptions => "asm-",
        }
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocumentKind {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DocumentKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                StoreError::invalid(
                    "kind",
                    format!("{s:?} is not a document kind (market, scenario_set, assumptions)"),
                )
            })
    }
}

/// A document version to store: what [`Storage::put_document`] takes.
///
/// [`Storage::put_document`]: crate::Storage::put_document
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    /// What the document holds.
    pub kind: DocumentKind,
    /// The name that versions share, e.g. `eur-base-curves`.
    pub name: String,
    /// The content, typically JSON; the store keeps it as opaque text.
    pub body: String,
    /// The previous version (same kind and name), or `None` for a first version.
    pub parent: Option<String>,
    /// Who made this version.
    pub author: String,
    /// When, as an ISO 8601 timestamp given by the caller.
    pub created_at: String,
    /// Why: the commit message of this version.
    pub reason: String,
}

/// A stored document without its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentInfo {
    /// Kind prefix + lower-case hex SHA-256 of the body.
    pub id: String,
    /// What the document holds.
    pub kind: DocumentKind,
    /// The name that versions share.
    pub name: String,
    /// The previous version, if any.
    pub parent: Option<String>,
    /// Who made this version.
    pub author: String,
    /// When, as given by the author.
    pub created_at: String,
    /// Why.
    pub reason: String,
}

/// A stored document with its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// Everything but the body.
    #[serde(flatten)]
    pub info: DocumentInfo,
    /// The content, exactly as stored.
    pub body: String,
}

/// The id of a document: kind prefix + lower-case hex SHA-256 of the body.
///
/// ```
/// use almanac_store::{document_id, DocumentKind};
/// assert_eq!(
///     document_id(DocumentKind::Market, "abc"),
///     "mkt-ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn document_id(kind: DocumentKind, body: &str) -> String {
    format!("{}{}", kind.id_prefix(), sha256_hex(body.as_bytes()))
}

pub(crate) fn validate(document: &NewDocument) -> Result<(), StoreError> {
    require_non_empty("name", &document.name)?;
    require_non_empty("author", &document.author)?;
    require_non_empty("reason", &document.reason)?;
    require_timestamp("created_at", &document.created_at)
}

/// The `detail_json` of a `put_document` audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DocumentDetail {
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) parent: Option<String>,
    pub(crate) author: String,
    pub(crate) reason: String,
    pub(crate) body_sha256: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_text() {
        for kind in DocumentKind::ALL {
            assert_eq!(kind.as_str().parse::<DocumentKind>().unwrap(), kind);
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        assert!("curves".parse::<DocumentKind>().is_err());
    }

    #[test]
    fn the_kind_is_part_of_the_id() {
        assert_ne!(
            document_id(DocumentKind::Market, "{}"),
            document_id(DocumentKind::Assumptions, "{}")
        );
    }
}
