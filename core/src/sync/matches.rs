//! The server's possible duplicates of a case (issue 19), for a phone that is online: the
//! matches it found across the agency when the case arrived, named only where the user may
//! see the other case, else only the team whose supervisor to ask.

use super::http::{base, call};
use crate::error::Result;
use crate::matching::{AgencyMatches, RelatedCases};
use crate::store::CaseStore;

impl CaseStore {
    /// Asks the server which cases of the agency may be `case_id`'s client
    /// (`GET /v1/cases/{id}/matches`). Needs the network, and the case synced to the
    /// server; a case the user may not see answers as one that does not exist (the
    /// server's 404, [`crate::Error::Network`]).
    pub fn agency_matches(
        &self,
        server_url: &str,
        token: &str,
        case_id: &crate::CaseId,
    ) -> Result<AgencyMatches> {
        let base = base(server_url);
        call(
            self,
            &format!("{base}/v1/cases/{case_id}/matches"),
            Some(token),
            None,
        )
    }

    /// Asks the server which cases are related to `case_id`, both ways: household
    /// members' own cases, cases whose household lists this client, and duplicates
    /// (`GET /v1/cases/{id}/related`). Named only where the user may see the other case,
    /// else only the team to ask. Needs the network, and the case synced to the server.
    pub fn related_cases(
        &self,
        server_url: &str,
        token: &str,
        case_id: &crate::CaseId,
    ) -> Result<RelatedCases> {
        let base = base(server_url);
        call(
            self,
            &format!("{base}/v1/cases/{case_id}/related"),
            Some(token),
            None,
        )
    }
}
