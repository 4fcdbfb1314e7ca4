//! The partner directory (issue 16), fetched after the cases of a sync: `GET
//! /v1/directory?have=N` answers `204` when the phone holds the server's version, else the
//! whole snapshot, which the store checks and keeps sealed (`store::directory`).

use super::http::{agent, net, refuse};
use super::protocol::SCHEMA_HEADER;
use crate::error::{Error, Result};
use crate::schema::SCHEMA_REVISION;
use crate::store::CaseStore;

/// The largest partner directory a phone reads, in bytes (the server's
/// `directory.max_bytes` is below it by default).
pub(crate) const MAX_DIRECTORY_BYTES: u64 = 64 * 1024 * 1024;

impl CaseStore {
    /// Fetches the partner directory when the server's is not the one held, at most
    /// [`MAX_DIRECTORY_BYTES`]; answers whether a new one was kept.
    pub(super) fn fetch_directory(&self, base: &str, token: &str) -> Result<bool> {
        #[derive(serde::Deserialize)]
        struct Snapshot {
            version: i64,
            directory: crate::directory::Directory,
        }
        let url = format!("{base}/v1/directory?have={}", self.directory_version());
        let mut response = agent(self.tls_roots().as_ref())
            .get(&url)
            .header(SCHEMA_HEADER, &SCHEMA_REVISION.to_string())
            .header("authorization", &format!("Bearer {token}"))
            .call()
            .map_err(net)?;
        let status = response.status().as_u16();
        if status == 204 {
            return Ok(false);
        }
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_DIRECTORY_BYTES)
            .read_to_vec()
            .map_err(net)?;
        refuse(self, status, &String::from_utf8_lossy(&bytes))?;
        let snapshot: Snapshot = serde_json::from_slice(&bytes)
            .map_err(|_| Error::Network("the server's directory was not understood".into()))?;
        self.set_directory(snapshot.version, snapshot.directory)?;
        Ok(true)
    }
}

impl CaseStore {
    /// Fetches the agency's areas (`GET /v1/areas`) and keeps them; a server from before
    /// areas (404) leaves the list held as it is. Answers how many areas are held.
    pub(super) fn fetch_areas(&self, base: &str, token: &str) -> Result<usize> {
        let mut response = agent(self.tls_roots().as_ref())
            .get(&format!("{base}/v1/areas"))
            .header(SCHEMA_HEADER, &SCHEMA_REVISION.to_string())
            .header("authorization", &format!("Bearer {token}"))
            .call()
            .map_err(net)?;
        let status = response.status().as_u16();
        if status != 404 {
            let bytes = response
                .body_mut()
                .with_config()
                .limit(MAX_DIRECTORY_BYTES)
                .read_to_vec()
                .map_err(net)?;
            refuse(self, status, &String::from_utf8_lossy(&bytes))?;
            let areas: Vec<crate::store::areas::Area> = serde_json::from_slice(&bytes)
                .map_err(|_| Error::Network("the server's areas were not understood".into()))?;
            self.set_areas(areas)?;
        }
        Ok(self.areas()?.len())
    }
}
