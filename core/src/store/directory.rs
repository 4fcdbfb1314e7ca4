//! The partner directory on the phone (issue 16): the snapshot the server last sent,
//! sealed in the store like everything else, searched offline. The phone never edits it:
//! only a sync replaces it ([`CaseStore::set_directory`] is the crate's own).

use std::sync::Arc;

use rusqlite::Connection;

use super::{get_meta, put_meta, CaseStore};
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
