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
    /// `GET url` as the signed-in phone: `None` when the server answers `nothing` (the
    /// status that says there is nothing to read), else the body, at most
    /// [`MAX_DIRECTORY_BYTES`], once a refusal in it was turned into its error.
    fn fetch_listing(&self, url: &str, token: &str, nothing: u16) -> Result<Option<Vec<u8>>> {
        let mut response = agent(self.tls_roots().as_ref())
            .get(url)
            .header(SCHEMA_HEADER, &SCHEMA_REVISION.to_string())
            .header("authorization", &format!("Bearer {token}"))
            .call()
            .map_err(net)?;
        let status = response.status().as_u16();
        if status == nothing {
            return Ok(None);
        }
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_DIRECTORY_BYTES)
            .read_to_vec()
            .map_err(net)?;
        refuse(self, status, &String::from_utf8_lossy(&bytes))?;
        Ok(Some(bytes))
    }

    /// Fetches the partner directory when the server's is not the one held, at most
    /// [`MAX_DIRECTORY_BYTES`]; answers whether a new one was kept.
    pub(super) fn fetch_directory(&self, base: &str, token: &str) -> Result<bool> {
        #[derive(serde::Deserialize)]
        struct Snapshot {
            version: i64,
            directory: crate::directory::Directory,
        }
        let url = format!("{base}/v1/directory?have={}", self.directory_version());
        let Some(bytes) = self.fetch_listing(&url, token, 204)? else {
            return Ok(false);
        };
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
        if let Some(bytes) = self.fetch_listing(&format!("{base}/v1/areas"), token, 404)? {
            let areas: Vec<crate::store::areas::Area> = serde_json::from_slice(&bytes)
                .map_err(|_| Error::Network("the server's areas were not understood".into()))?;
            self.set_areas(areas)?;
        }
        Ok(self.areas()?.len())
    }
}
