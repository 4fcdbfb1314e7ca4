//! The agency's areas on the phone (issue 21): the list the server last sent (`GET
//! /v1/areas`), sealed in the store like everything else, which the worker picks the
//! client's area from (`client/area`, schema revision 5). The phone never edits it; a code
//! it does not hold is refused before it is written (the server refuses it too).

use serde::{Deserialize, Serialize};

use super::{get_meta, put_meta, CaseStore};
use crate::crypto::RecordKind;
use crate::error::{Error, Result};
use crate::schema::is_area_code;

/// The most areas a phone keeps from one answer (the server's `areas.max` is below it by
/// default).
pub(crate) const MAX_AREAS: usize = 100_000;

/// One of the agency's areas: its code (what the case holds) and its name now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Area {
    pub code: String,
    pub name: String,
}

impl CaseStore {
    /// The agency's areas as of the last sync, by code (none before the first).
    pub fn areas(&self) -> Result<Vec<Area>> {
        let g = self.lock();
        Ok(match get_meta(&g.conn, &g.meta, "areas")? {
            Some(bytes) => serde_json::from_slice(&bytes)?,
            None => Vec::new(),
        })
    }

    /// Keeps the areas the server sent, sealed, in place of those held (a list with a
    /// code not shaped like one, or too long, is refused and the old one kept).
    pub(crate) fn set_areas(&self, mut areas: Vec<Area>) -> Result<()> {
        if areas.len() > MAX_AREAS || areas.iter().any(|a| !is_area_code(&a.code)) {
            return Err(Error::invalid(
                "areas",
                "the server's list of areas is not one",
            ));
        }
        areas.sort_by(|a, b| a.code.cmp(&b.code));
        let json = serde_json::to_vec(&areas)?;
        let g = self.lock();
        let sealed = g.meta.seal(RecordKind::Meta, b"areas", &json);
        put_meta(&g.conn, "areas", &sealed)?;
        Ok(())
    }

    /// Checks the client's area a worker chose: one of the areas this phone holds (an
    /// empty code stands for none and passes).
    pub fn check_area(&self, code: Option<&str>) -> Result<()> {
        let Some(code) = code.filter(|c| !c.is_empty()) else {
            return Ok(());
        };
        if self.areas()?.iter().any(|a| a.code == code) {
            Ok(())
        } else {
            Err(Error::invalid(
                "client/area",
                "not one of the agency's areas this phone holds (sync to get the list)",
            ))
        }
    }
}
