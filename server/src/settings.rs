//! The optional configuration file (`--config PATH` or `FIELDCASE_CONFIG`), TOML. What a
//! command-line flag or an environment variable gives wins over the file; the file wins
//! over the built-in defaults. Unknown keys are errors, so a misspelt setting is never
//! silently ignored.
//!
//! ```toml
//! db = "/var/lib/fieldcase/fieldcase.sqlite"   # or "postgres://user:password@host/db"
//! listen = "127.0.0.1:8080"
//! log_format = "json"          # or "text"
//! tls_cert = "/etc/fieldcase/cert.pem"   # serve HTTPS (both or neither)
//! tls_key = "/etc/fieldcase/key.pem"
//! max_inflated_bytes = 67108864   # the most compressed client data may inflate to
//! metrics_token = "a long random string"   # /metrics answers `Authorization: Bearer` it
//!                              # (env FIELDCASE_METRICS_TOKEN); unset: only admins' sessions
//! master_key_file = "/etc/fieldcase/master.key"   # the master key that wraps every case's
//!                              # data key (encryption at rest): 64 hex digits, created
//!                              # (0600) on first start; keep it apart from the backups.
//!                              # Unset: `<db>.key` beside a SQLite file, `fieldcase.key`
//!                              # for PostgreSQL. Flag --master-key-file, env
//!                              # FIELDCASE_MASTER_KEY_FILE; or the key itself in the env
//!                              # FIELDCASE_MASTER_KEY (wins over any file)
//!
//! [sessions]
//! idle_hours = 168             # a session unused this long ends
//! absolute_days = 30           # and every session ends this long after login
//!
//! [login]
//! max_failures = 5             # attempts on one username within the window before each
//!                              # further attempt waits (the right password still signs in)
//! window_minutes = 15
//! max_delay_seconds = 30       # the longest such wait
//! max_failures_per_address = 30  # failed attempts from one client address (an IPv6 /64)
//!                              # within the window before each attempt from it waits
//!                              # the longest wait (slowed, never refused)
//! max_concurrent = 4           # passwords hashed at once
//! trusted_proxies = ["127.0.0.1"]  # reverse proxies whose X-Forwarded-For names the
//!                              # client (behind one, set it: else every client has the
//!                              # proxy's address)
//!
//! [cases]
//! departure_days = 30          # how long a phone may hand in the last changes of a case
//!                              # its user left
//! offline_days = 90            # changes whose own time is older than this on arrival
//!                              # show their receipt time (marked), never refused
//! max_per_connection = 20000   # cases one sync connection may sync
//! min_app_schema = 2           # apps writing an earlier case schema revision are told to
//!                              # update before they log in or sync (never lowered below
//!                              # this version's own)
//! max_cached = 1000            # idle cases kept in memory (no write, no live sync uses
//!                              # them; about 20 KB a small case); past it the least
//!                              # recently used is dropped and read from storage again at
//!                              # its next use. 0: none kept. Metrics fieldcase_cases_*,
//!                              # fieldcase_case_evictions_total, fieldcase_case_loads_total
//! max_outlines = 10000         # outlines kept of cases dropped from memory (the case file
//!                              # without narrative texts, about 3 KB a small case): read
//!                              # instead of the document at such a case's next write. 0:
//!                              # none kept. Metrics fieldcase_case_outlines_kept,
//!                              # fieldcase_case_outline_hits_total
//!
//! [directory]                  # the partner directory (issue 16)
//! max_bytes = 33554432         # the largest directory stored and sent to phones (JSON)
//! max_import_bytes = 67108864  # the largest file of an imported HSDS data package
//!
//! [partner]                    # partners answering a referral through a link (ADR 0006)
//! link_days = 30               # how long a new link opens (at most 90)
//! requests_per_hour = 60       # views and answers of one link in an hour; more get 429
//!
//! [attachments]                # photos, documents, signatures (issue 17)
//! max_bytes = 20971520         # the largest file stored (at most 20 MiB)
//!
//! [console]                    # the supervisor console
//! max_summaries = 20000        # case summaries kept in memory (about 7 KB each) so that a
//!                              # list reads only the cases changed since it was last shown
//!                              # (metric fieldcase_console_summaries)
//!
//! [matching]                   # possible duplicates across the agency (issue 19)
//! max_indexed = 200000         # cases the check holds in memory; past it a case is not
//!                              # compared (metric fieldcase_match_index_full_total)
//! max_related = 200            # cases that link to one case read for its related cases;
//!                              # past it they are left out (fieldcase_related_left_out_total)
//!
//! [areas]                      # the agency's areas, which cases count by (issue 21)
//! max = 5000                   # areas kept; one more is refused (too_many_areas)
//! max_name_chars = 100         # the longest name of an area; refusals of both are counted
//!                              # in fieldcase_areas_refused_total (a code is at most 32
//!                              # letters, digits, '-', '_' or '.': the case schema's bound)
//!
//! [limits]                     # connections and timeouts (crate::listen)
//! max_connections = 4096       # open connections in all, sync WebSockets included
//! max_connections_per_address = 256   # from one client IP (behind a proxy: raise it)
//! header_timeout_secs = 10     # TLS handshake, and a request's headers; also keep-alive idle
//! request_timeout_secs = 30    # a request's headers to its response (its body included)
//! sync_idle_timeout_secs = 300 # a sync WebSocket with nothing from its client this long
//!
//! [deadlines]                  # days after a starting point each step is due, for every
//!                              # team (fieldcase_core::deadlines: the seeds give no
//!                              # numbers; these are the defaults)
//! safety_days = 1              # immediate safety measures in an emergency, after intake
//! assessment_days = 14         # the first assessment, after intake
//! plan_days = 30               # an approved plan, after intake
//! referral_answer_days = 14    # a partner's answer, after the referral
//! review_days_evidence_of_abuse = 30         # the review after an approved plan,
//! review_days_insufficient_information = 30  # by the latest conclusion
//! review_days_other_family_problems = 60
//! review_days = 90
//!
//! [team_deadlines.north]       # one team's own (any of the keys above; the rest as
//! plan_days = 21               # [deadlines] says)
//!
//! [retention]                  # closed cases (issue 18; crate::retention). Unset: kept
//! closed_days = 3650           # for ever. Days after the closure's approval, 1 to 36500
//! action = "list"              # past it: "list" for a decision, or "erase"
//! interval_minutes = 60        # how often the server looks
//! max_erasures_per_pass = 500  # the most cases one pass erases (the rest wait)
//!
//! [team_retention.north]       # one team's own (closed_days, action; the rest as
//! closed_days = 1825           # [retention] says)
//! action = "erase"
//!
//! [postgres]                   # the PostgreSQL storage only (ADR 0007)
//! keys_url = "postgres://fieldcase:password@keys-host/fieldcase_keys"   # the keys
//!                              # database: every case's data key and the tombstones, apart
//!                              # from the data database and its dumps; shared by every
//!                              # instance. Unset: the data database's name with `_keys`
//!                              # on the same server, created at first start (env
//!                              # FIELDCASE_KEYS_URL)
//!
//! [time_zones]                 # the console's times (IANA names); a user may choose
//! default = "Asia/Bangkok"     # their own. Every team's (UTC when unset)
//! north = "Asia/Ho_Chi_Minh"   # one team's own, by team name
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Config;

/// The settings a configuration file may hold.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub db: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub log_format: Option<LogFormat>,
    /// HTTPS: the certificate chain and its private key (PEM files).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// The cap on what the compressed parts of one sync message or departure may inflate
    /// to ([`fieldcase_core::limits::MAX_INFLATED_BYTES`] when unset).
    pub max_inflated_bytes: Option<usize>,
    /// The bearer token `/metrics` answers (see [`crate::Config::metrics_token`]).
    pub metrics_token: Option<String>,
    /// The master key file (see [`crate::db::keys`]).
    pub master_key_file: Option<PathBuf>,
    #[serde(default)]
    pub sessions: Sessions,
    #[serde(default)]
    pub matching: MatchingSettings,
    #[serde(default)]
    pub areas: AreaSettings,
    #[serde(default)]
    pub login: Login,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub cases: Cases,
    #[serde(default)]
    pub directory: DirectorySettings,
    #[serde(default)]
    pub partner: PartnerSettings,
    #[serde(default)]
    pub attachments: AttachmentSettings,
    /// Deadlines for every team; unset keys keep the defaults.
    #[serde(default)]
    pub deadlines: DeadlineSettings,
    /// One team's deadlines, by team name, over `[deadlines]`.
    #[serde(default)]
    pub team_deadlines: std::collections::BTreeMap<String, DeadlineSettings>,
    /// How long closed cases are kept, for every team.
    #[serde(default)]
    pub retention: RetentionSettings,
    /// One team's retention, by team name, over `[retention]`.
    #[serde(default)]
    pub team_retention: std::collections::BTreeMap<String, TeamRetentionSettings>,
    /// The console's time zones: `default` for every team, else a team's name (IANA
    /// names, checked when the file is read).
    #[serde(default)]
    pub time_zones: std::collections::BTreeMap<String, String>,
    /// The supervisor console's bounds.
    #[serde(default)]
    pub console: ConsoleSettings,
    /// The PostgreSQL storage's own settings.
    #[serde(default)]
    pub postgres: PostgresSettings,
}

/// `[postgres]`: the PostgreSQL storage's own settings.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PostgresSettings {
    /// The keys database ([`crate::db::postgres::PostgresDb::connect_apart`]); unset: the
    /// data database's name with `_keys`, on the same server.
    pub keys_url: Option<String>,
}

/// `[console]`: the supervisor console's bounds.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    /// Case summaries kept in memory ([`crate::Config::console_max_summaries`]).
    pub max_summaries: Option<u32>,
}

/// `[retention]`: how long closed cases are kept ([`crate::retention`]).
#[derive(Debug, Default, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    pub closed_days: Option<u32>,
    pub action: Option<crate::retention::Action>,
    pub interval_minutes: Option<u32>,
    pub max_erasures_per_pass: Option<u32>,
}

/// `[team_retention.<team>]`: one team's own retention.
#[derive(Debug, Default, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TeamRetentionSettings {
    pub closed_days: Option<u32>,
    pub action: Option<crate::retention::Action>,
}

impl FileSettings {
    /// The retention the file sets, checked: days from 1 to
    /// [`crate::retention::MAX_DAYS`], a team's action only with days (its own or
    /// `[retention]`'s).
    pub fn retention(&self) -> Result<crate::retention::Settings, String> {
        use crate::retention::{Action, Policy, MAX_DAYS};
        let r = &self.retention;
        let days = |v: Option<u32>, what: &str| match v {
            Some(d) if d == 0 || d > MAX_DAYS => {
                Err(format!("{what} is from 1 to {MAX_DAYS} days"))
            }
            other => Ok(other),
        };
        let mut out = crate::retention::Settings::default();
        let base_days = days(r.closed_days, "retention.closed_days")?;
        if r.action.is_some() && base_days.is_none() {
            return Err("retention.action needs retention.closed_days".into());
        }
        out.default = base_days.map(|closed_days| Policy {
            closed_days,
            action: r.action.unwrap_or(Action::List),
        });
        for (team, t) in &self.team_retention {
            let what = format!("team_retention.{team}.closed_days");
            let closed_days = days(t.closed_days, &what)?
                .or(base_days)
                .ok_or_else(|| format!("{what} is needed (retention.closed_days is unset)"))?;
            out.teams.insert(
                team.clone(),
                Policy {
                    closed_days,
                    action: t.action.or(r.action).unwrap_or(Action::List),
                },
            );
        }
        match r.interval_minutes {
            Some(0) => return Err("retention.interval_minutes must be at least 1".into()),
            Some(m) => out.interval = std::time::Duration::from_secs(u64::from(m) * 60),
            None => {}
        }
        match r.max_erasures_per_pass {
            Some(0) => return Err("retention.max_erasures_per_pass must be at least 1".into()),
            Some(n) => out.max_erasures_per_pass = n as usize,
            None => {}
        }
        Ok(out)
    }
}

/// Days after a starting point each step is due ([`fieldcase_core::deadlines::Deadlines`]);
/// an unset key keeps what the level above says.
#[derive(Debug, Default, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeadlineSettings {
    pub safety_days: Option<u32>,
    pub assessment_days: Option<u32>,
    pub plan_days: Option<u32>,
    pub referral_answer_days: Option<u32>,
    pub review_days_evidence_of_abuse: Option<u32>,
    pub review_days_insufficient_information: Option<u32>,
    pub review_days_other_family_problems: Option<u32>,
    pub review_days: Option<u32>,
}

impl DeadlineSettings {
    /// `base` with these settings over it.
    pub fn over(
        &self,
        base: fieldcase_core::deadlines::Deadlines,
    ) -> fieldcase_core::deadlines::Deadlines {
        let mut d = base;
        let set = |slot: &mut u32, v: Option<u32>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut d.safety_days, self.safety_days);
        set(&mut d.assessment_days, self.assessment_days);
        set(&mut d.plan_days, self.plan_days);
        set(&mut d.referral_answer_days, self.referral_answer_days);
        set(
            &mut d.review_days_evidence_of_abuse,
            self.review_days_evidence_of_abuse,
        );
        set(
            &mut d.review_days_insufficient_information,
            self.review_days_insufficient_information,
        );
        set(
            &mut d.review_days_other_family_problems,
            self.review_days_other_family_problems,
        );
        set(&mut d.review_days, self.review_days);
        d
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Sessions {
    pub idle_hours: Option<u32>,
    pub absolute_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub max_failures: Option<u32>,
    pub window_minutes: Option<u32>,
    pub max_delay_seconds: Option<u32>,
    pub max_failures_per_address: Option<u32>,
    pub max_concurrent: Option<u32>,
    pub trusted_proxies: Option<Vec<std::net::IpAddr>>,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Cases {
    pub departure_days: Option<u32>,
    pub offline_days: Option<u32>,
    pub max_per_connection: Option<u32>,
    pub min_app_schema: Option<u32>,
    /// Idle cases kept in memory ([`crate::Config::max_cached_cases`]; 0 keeps none).
    pub max_cached: Option<u32>,
    /// Outlines kept of cases dropped from memory ([`crate::Config::max_kept_outlines`];
    /// 0 keeps none).
    pub max_outlines: Option<u32>,
}

/// The partner directory's bounds.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DirectorySettings {
    pub max_bytes: Option<u64>,
    pub max_import_bytes: Option<u64>,
}

/// Partners answering through a link.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PartnerSettings {
    pub link_days: Option<u32>,
    pub requests_per_hour: Option<u32>,
}

/// Attachments' bounds (issue 17).
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AttachmentSettings {
    pub max_bytes: Option<u64>,
}

/// The duplicate check across the agency ([`crate::matching`]).
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MatchingSettings {
    pub max_indexed: Option<u32>,
    pub max_related: Option<u32>,
}

/// The agency's areas' bounds ([`crate::db::areas`]).
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AreaSettings {
    pub max: Option<u32>,
    pub max_name_chars: Option<u32>,
}

/// Connection limits and timeouts ([`crate::listen`]).
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub max_connections: Option<u32>,
    pub max_connections_per_address: Option<u32>,
    pub header_timeout_secs: Option<u32>,
    pub request_timeout_secs: Option<u32>,
    pub sync_idle_timeout_secs: Option<u32>,
}

impl FileSettings {
    /// Reads and checks a configuration file; the error says which file and what is wrong.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the configuration {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("in the configuration {}: {e}", path.display()))
    }

    /// Parses and checks the text of a configuration file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let s: FileSettings = toml::from_str(text).map_err(|e| e.to_string())?;
        let positive = |v: Option<u32>, what: &str| match v {
            Some(0) => Err(format!("{what} must be at least 1")),
            _ => Ok(()),
        };
        positive(s.sessions.idle_hours, "sessions.idle_hours")?;
        positive(s.sessions.absolute_days, "sessions.absolute_days")?;
        positive(s.login.max_failures, "login.max_failures")?;
        positive(s.login.window_minutes, "login.window_minutes")?;
        let l = &s.limits;
        positive(l.max_connections, "limits.max_connections")?;
        positive(
            l.max_connections_per_address,
            "limits.max_connections_per_address",
        )?;
        positive(l.header_timeout_secs, "limits.header_timeout_secs")?;
        positive(l.request_timeout_secs, "limits.request_timeout_secs")?;
        positive(l.sync_idle_timeout_secs, "limits.sync_idle_timeout_secs")?;
        if s.metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err("metrics_token must be at least 16 characters".into());
        }
        positive(
            s.login.max_failures_per_address,
            "login.max_failures_per_address",
        )?;
        positive(s.login.max_concurrent, "login.max_concurrent")?;
        positive(s.login.max_delay_seconds, "login.max_delay_seconds")?;
        positive(s.cases.departure_days, "cases.departure_days")?;
        positive(s.cases.offline_days, "cases.offline_days")?;
        positive(s.cases.max_per_connection, "cases.max_per_connection")?;
        positive(s.partner.link_days, "partner.link_days")?;
        positive(s.partner.requests_per_hour, "partner.requests_per_hour")?;
        positive(s.matching.max_indexed, "matching.max_indexed")?;
        positive(s.matching.max_related, "matching.max_related")?;
        positive(s.areas.max, "areas.max")?;
        positive(s.areas.max_name_chars, "areas.max_name_chars")?;
        if s.partner
            .link_days
            .is_some_and(|d| d > crate::PARTNER_MAX_LINK_DAYS)
        {
            return Err(format!(
                "partner.link_days may be at most {}",
                crate::PARTNER_MAX_LINK_DAYS
            ));
        }
        if s.attachments
            .max_bytes
            .is_some_and(|n| n == 0 || n > fieldcase_core::attachment::MAX_BYTES)
        {
            return Err(format!(
                "attachments.max_bytes must be between 1 and {}",
                fieldcase_core::attachment::MAX_BYTES
            ));
        }
        for (v, what) in [
            (s.directory.max_bytes, "directory.max_bytes"),
            (s.directory.max_import_bytes, "directory.max_import_bytes"),
        ] {
            if v == Some(0) {
                return Err(format!("{what} must be at least 1"));
            }
        }
        if s.directory
            .max_import_bytes
            .is_some_and(|n| n > fieldcase_core::directory::hsds::MAX_FILE_BYTES)
        {
            return Err(format!(
                "directory.max_import_bytes may be at most {}",
                fieldcase_core::directory::hsds::MAX_FILE_BYTES
            ));
        }
        if s.cases
            .min_app_schema
            .is_some_and(|n| n < crate::api::MIN_APP_SCHEMA)
        {
            return Err(format!(
                "cases.min_app_schema must be at least {} (this version's own)",
                crate::api::MIN_APP_SCHEMA
            ));
        }
        let agency = s.deadlines.over(Default::default());
        agency.check().map_err(|e| format!("deadlines.{e}"))?;
        for (team, d) in &s.team_deadlines {
            d.over(agency)
                .check()
                .map_err(|e| format!("team_deadlines.{team}.{e}"))?;
        }
        if s.max_inflated_bytes.is_some_and(|n| n < 1024 * 1024) {
            return Err("max_inflated_bytes must be at least 1048576".into());
        }
        s.retention()?;
        s.time_zones()?;
        Ok(s)
    }

    /// `[time_zones]`: every team's zone (`default`) and the teams' own.
    fn time_zones(
        &self,
    ) -> Result<
        (
            Option<chrono_tz::Tz>,
            std::collections::BTreeMap<String, chrono_tz::Tz>,
        ),
        String,
    > {
        let mut teams = std::collections::BTreeMap::new();
        let mut default = None;
        for (key, name) in &self.time_zones {
            let tz: chrono_tz::Tz = name.parse().map_err(|_| {
                format!("time_zones.{key}: `{name}` is not a time zone of the IANA database (such as Asia/Bangkok)")
            })?;
            if key == "default" {
                default = Some(tz);
            } else {
                teams.insert(key.clone(), tz);
            }
        }
        Ok((default, teams))
    }

    /// Applies the file's settings to a server configuration.
    pub fn apply(&self, config: &mut Config) {
        if let Some(n) = self.max_inflated_bytes {
            config.input_limits.max_inflated = n;
        }
        if let Some(h) = self.sessions.idle_hours {
            config.sessions.idle_ms = i64::from(h) * 3_600_000;
        }
        if let Some(d) = self.sessions.absolute_days {
            config.sessions.absolute_ms = i64::from(d) * 86_400_000;
        }
        if let Some(n) = self.login.max_failures {
            config.login_max_failures = n;
        }
        if let Some(m) = self.login.window_minutes {
            config.login_window_ms = i64::from(m) * 60_000;
        }
        let secs = |s: u32| std::time::Duration::from_secs(u64::from(s));
        let (l, to) = (&self.limits, &mut config.limits);
        if let Some(n) = l.max_connections {
            to.max_connections = n as usize;
        }
        if let Some(n) = l.max_connections_per_address {
            to.max_connections_per_address = n as usize;
        }
        if let Some(s) = l.header_timeout_secs {
            to.header_timeout = secs(s);
        }
        if let Some(s) = l.request_timeout_secs {
            to.request_timeout = secs(s);
        }
        if let Some(s) = l.sync_idle_timeout_secs {
            to.sync_idle_timeout = secs(s);
        }
        if let Some(t) = &self.metrics_token {
            config.metrics_token = Some(t.clone());
        }
        if let Some(s) = self.login.max_delay_seconds {
            config.login_max_delay_ms = i64::from(s) * 1000;
        }
        if let Some(n) = self.login.max_failures_per_address {
            config.login_max_failures_per_address = n;
        }
        if let Some(n) = self.login.max_concurrent {
            config.login_max_concurrent = n as usize;
        }
        if let Some(p) = &self.login.trusted_proxies {
            config.trusted_proxies = p.clone();
        }
        if let Some(d) = self.cases.departure_days {
            config.departure_days = d;
        }
        if let Some(d) = self.cases.offline_days {
            config.offline_days = d;
        }
        if let Some(n) = self.cases.max_per_connection {
            config.sync_max_cases_per_connection = n as usize;
        }
        if let Some(n) = self.cases.min_app_schema {
            config.min_app_schema = n;
        }
        if let Some(n) = self.cases.max_cached {
            config.max_cached_cases = n as usize;
        }
        if let Some(n) = self.cases.max_outlines {
            config.max_kept_outlines = n as usize;
        }
        if let Some(n) = self.console.max_summaries {
            config.console_max_summaries = n as usize;
        }
        if let Some(n) = self.directory.max_bytes {
            config.directory_max_bytes = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = self.directory.max_import_bytes {
            config.directory_max_import_bytes = n;
        }
        if let Some(n) = self.partner.link_days {
            config.partner_link_days = n;
        }
        if let Some(n) = self.partner.requests_per_hour {
            config.partner_requests_per_hour = n;
        }
        if let Some(n) = self.attachments.max_bytes {
            config.attachment_max_bytes = n;
        }
        if let Some(n) = self.areas.max {
            config.areas.max_areas = n as usize;
        }
        if let Some(n) = self.areas.max_name_chars {
            config.areas.max_name_chars = n as usize;
        }
        if let Some(n) = self.matching.max_related {
            config.matching_max_related = n as usize;
        }
        if let Some(n) = self.matching.max_indexed {
            config.matching_max_indexed = n as usize;
        }
        config.deadlines = self.deadlines.over(config.deadlines);
        config.team_deadlines = self
            .team_deadlines
            .iter()
            .map(|(team, d)| (team.clone(), d.over(config.deadlines)))
            .collect();
        // Checked when the file was read (`parse`).
        if let Ok(r) = self.retention() {
            config.retention = r;
        }
        if let Ok((default, teams)) = self.time_zones() {
            config.time_zone = default.unwrap_or(config.time_zone);
            config.team_time_zones = teams;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_applies_and_mistakes_are_named() {
        let s = FileSettings::parse(
            "db = \"x.sqlite\"\nlisten = \"127.0.0.1:9000\"\nlog_format = \"json\"\nmax_inflated_bytes = 2097152\n\
             metrics_token = \"0123456789abcdef\"\nmaster_key_file = \"/etc/fc/master.key\"\n\
             [sessions]\nidle_hours = 2\nabsolute_days = 3\n[login]\nmax_failures = 7\nwindow_minutes = 1\nmax_failures_per_address = 9\n\
             trusted_proxies = [\"10.0.0.2\"]\n\
             [cases]\ndeparture_days = 2\nmax_per_connection = 50\nmax_cached = 7\nmax_outlines = 8\n\
             [console]\nmax_summaries = 9\n[areas]\nmax = 12\nmax_name_chars = 40\n\
             [limits]\nmax_connections = 9\nmax_connections_per_address = 3\nheader_timeout_secs = 2\n\
             request_timeout_secs = 4\nsync_idle_timeout_secs = 5\n",
        )
        .unwrap();
        let mut c = Config::default();
        s.apply(&mut c);
        assert_eq!(s.db.as_deref(), Some(Path::new("x.sqlite")));
        assert_eq!(s.log_format, Some(LogFormat::Json));
        assert_eq!(
            s.master_key_file.as_deref(),
            Some(Path::new("/etc/fc/master.key"))
        );
        assert_eq!(
            (c.sessions.idle_ms, c.sessions.absolute_ms),
            (7_200_000, 259_200_000)
        );
        assert_eq!((c.login_max_failures, c.login_window_ms), (7, 60_000));
        let secs = std::time::Duration::from_secs;
        assert_eq!(
            c.limits,
            crate::listen::Limits {
                max_connections: 9,
                max_connections_per_address: 3,
                header_timeout: secs(2),
                request_timeout: secs(4),
                sync_idle_timeout: secs(5),
            }
        );
        assert_eq!(c.metrics_token.as_deref(), Some("0123456789abcdef"));
        assert_eq!(c.login_max_failures_per_address, 9);
        assert_eq!(
            c.trusted_proxies,
            vec!["10.0.0.2".parse::<std::net::IpAddr>().unwrap()]
        );
        assert_eq!((c.departure_days, c.sync_max_cases_per_connection), (2, 50));
        assert_eq!((c.max_cached_cases, c.console_max_summaries), (7, 9));
        assert_eq!(c.max_kept_outlines, 8);
        assert_eq!((c.areas.max_areas, c.areas.max_name_chars), (12, 40));
        assert_eq!(c.input_limits.max_inflated, 2_097_152);
        for (bad, named) in [
            ("dbb = \"x\"", "dbb"),
            ("listen = \"nowhere\"", "listen"),
            ("[sessions]\nidle_hours = 0", "idle_hours"),
            ("[login]\nmax_failures = -1", "max_failures"),
            ("[limits]\nheader_timeout_secs = 0", "header_timeout_secs"),
            ("[limits]\nmax_conns = 1", "max_conns"),
            ("metrics_token = \"short\"", "metrics_token"),
            ("log_format = \"xml\"", "xml"),
            ("db = ", "db"),
            ("max_inflated_bytes = 10", "max_inflated_bytes"),
            ("[areas]\nmax = 0", "areas.max"),
            ("[areas]\nmax_name_chars = 0", "areas.max_name_chars"),
        ] {
            let e = FileSettings::parse(bad).unwrap_err();
            assert!(e.contains(named), "{bad}: {e}");
        }
        assert_eq!(FileSettings::parse("").unwrap(), FileSettings::default());
    }

    #[test]
    fn time_zones_apply_per_team_and_a_wrong_name_is_refused() {
        let s = FileSettings::parse(
            "[time_zones]\ndefault = \"Asia/Bangkok\"\nnorth = \"Asia/Ho_Chi_Minh\"\n",
        )
        .unwrap();
        let mut c = Config::default();
        assert_eq!(c.time_zone_of(Some("north")), chrono_tz::Tz::UTC);
        s.apply(&mut c);
        assert_eq!(
            c.time_zone_of(Some("north")),
            chrono_tz::Tz::Asia__Ho_Chi_Minh
        );
        assert_eq!(c.time_zone_of(Some("south")), chrono_tz::Tz::Asia__Bangkok);
        assert_eq!(c.time_zone_of(None), chrono_tz::Tz::Asia__Bangkok);
        let e = FileSettings::parse("[time_zones]\nnorth = \"Mars/Olympus\"\n").unwrap_err();
        assert!(
            e.contains("time_zones.north") && e.contains("Mars/Olympus"),
            "{e}"
        );
    }

    #[test]
    fn the_directory_bounds_apply_and_are_checked() {
        let s = FileSettings::parse("[directory]\nmax_bytes = 1000\nmax_import_bytes = 2000\n")
            .unwrap();
        let mut c = Config::default();
        assert_eq!(c.directory_max_bytes, crate::DIRECTORY_MAX_BYTES);
        s.apply(&mut c);
        assert_eq!(
            (c.directory_max_bytes, c.directory_max_import_bytes),
            (1000, 2000)
        );
        for (bad, named) in [
            ("[directory]\nmax_bytes = 0", "directory.max_bytes"),
            (
                "[directory]\nmax_import_bytes = 0",
                "directory.max_import_bytes",
            ),
            ("[directory]\nmax_import_bytes = 99999999999", "at most"),
            ("[directory]\nmax_entries = 3", "max_entries"),
        ] {
            let e = FileSettings::parse(bad).unwrap_err();
            assert!(e.contains(named), "{bad}: {e}");
        }
    }
}
