//! The partner directory on the phone (issue 16): the snapshot the server last sent,
//! sealed in the store like everything else, searched offline. The phone never edits it:
//! only a sync replaces it ([`CaseStore::set_directory`] is the crate's own).

use std::sync::Arc;

use rusqlite::Connection;

use super::{get_meta, put_meta, CaseStore};
use crate::case::{ReferralInput, ReferralLinkInput};
use crate::crypto::{Key, RecordKind};
use crate::directory::{Directory, DirectoryFilter, DirectoryHit, DirectoryIndex, ServiceEntry};
use crate::error::{Error, Result};

/// The version held, from its sealed record (0 when none, or unreadable).
pub(super) fn stored_version(conn: &Connection, meta: &Key) -> Result<i64> {
    Ok(get_meta(conn, meta, "directory_version")?
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map(i64::from_be_bytes)
        .unwrap_or(0))
}

impl CaseStore {
    /// The version of the partner directory this phone holds (0: none yet).
    pub fn directory_version(&self) -> i64 {
        self.lock().directory_version
    }

    /// Keeps the directory the server sent as `version`, sealed, in place of the one held,
    /// after its check (a directory that fails it is refused and the old one kept).
    pub(crate) fn set_directory(&self, version: i64, directory: Directory) -> Result<()> {
        if let Some(p) = directory.check().first() {
            return Err(Error::invalid("directory", p.to_string()));
        }
        let json = serde_json::to_vec(&directory)?;
        let mut g = self.lock();
        let sealed = g.meta.seal(RecordKind::Meta, b"directory", &json);
        let sealed_version = g.meta.seal(
            RecordKind::Meta,
            b"directory_version",
            &version.to_be_bytes(),
        );
        let tx = g.conn.unchecked_transaction()?;
        put_meta(&tx, "directory", &sealed)?;
        put_meta(&tx, "directory_version", &sealed_version)?;
        tx.commit()?;
        g.directory_version = version;
        g.directory = Some(Arc::new(DirectoryIndex::new(directory)));
        Ok(())
    }

    /// The directory's index: built from the sealed record at the first call after opening.
    fn directory_index(&self) -> Result<Arc<DirectoryIndex>> {
        let mut g = self.lock();
        if let Some(ix) = &g.directory {
            return Ok(ix.clone());
        }
        let directory: Directory = match get_meta(&g.conn, &g.meta, "directory")? {
            Some(bytes) => serde_json::from_slice(&bytes)?,
            None => Directory::default(),
        };
        let ix = Arc::new(DirectoryIndex::new(directory));
        g.directory = Some(ix.clone());
        Ok(ix)
    }

    /// The services of the partner directory matching `filter`, offline (see
    /// [`DirectoryIndex::search`]): names in any script and language, life domain, area,
    /// language, age, gender, status.
    pub fn directory_search(&self, filter: &DirectoryFilter) -> Result<Vec<DirectoryHit>> {
        self.directory_index()?.search(filter)
    }

    /// Everything about one service of the directory, offline.
    pub fn directory_entry(&self, service_id: &str) -> Result<ServiceEntry> {
        self.directory_index()?
            .entry(service_id)
            .ok_or_else(|| Error::NotFound(service_id.to_owned()))
    }
}

impl CaseStore {
    /// A referral naming the directory's service `input.service_id` (if it names one), with
    /// the organisation's and the service's names written in where the input leaves them
    /// empty, so that the case reads the same once the directory changes. A service the
    /// directory does not hold, or a location that is not the service's, is refused.
    pub fn referral_from_directory(&self, mut input: ReferralInput) -> Result<ReferralInput> {
        let names = self.directory_names(
            "referrals",
            input.service_id.as_deref(),
            input.location_id.as_deref(),
        )?;
        if let Some((organisation, service)) = names {
            fill(&mut input.organisation, organisation);
            fill(&mut input.service, service);
        }
        Ok(input)
    }

    /// Checks a link of a referral written in free text against the directory held: the
    /// service is one it holds (and the location the service's). The names the worker
    /// wrote stay as they are (the directory's id is the link; reports count by it).
    pub fn referral_link_from_directory(
        &self,
        input: ReferralLinkInput,
    ) -> Result<ReferralLinkInput> {
        self.directory_names(
            "referrals",
            input.service_id.as_deref(),
            input.location_id.as_deref(),
        )?;
        Ok(input)
    }

    /// The organisation's and service's names of `service_id`, checked against the
    /// directory held (with `location_id`, when given, one of the service's locations).
    fn directory_names(
        &self,
        path: &str,
        service_id: Option<&str>,
        location_id: Option<&str>,
    ) -> Result<Option<(String, String)>> {
        let Some(id) = service_id.filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        let entry = self.directory_entry(id).map_err(|e| match e {
            Error::NotFound(_) => Error::invalid(
                format!("{path}/service_id"),
                "the partner directory on this phone holds no such service (sync to fetch the latest)",
            ),
            other => other,
        })?;
        if let Some(loc) = location_id.filter(|s| !s.trim().is_empty()) {
            if !entry.locations.iter().any(|l| l.id == loc) {
                return Err(Error::invalid(
                    format!("{path}/location_id"),
                    "this location is not one of the service's",
                ));
            }
        }
        Ok(Some((entry.organization.name, entry.service.name)))
    }
}

/// Writes `value` into `slot` when the slot is empty.
fn fill(slot: &mut Option<String>, value: String) {
    if slot.as_deref().is_none_or(|s| s.trim().is_empty()) && !value.is_empty() {
        *slot = Some(value);
    }
}
