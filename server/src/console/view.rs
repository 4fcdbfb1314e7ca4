//! The page frame and the small pieces every page uses. Everything interpolated with
//! `(...)` is HTML-escaped by maud; nothing here marks client data as pre-escaped.

use super::roster::Shown;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use fluent_bundle::FluentValue;
use maud::{html, Markup, DOCTYPE};

use super::i18n::{Locale, LOCALES};
use super::ConsoleUser;
use crate::error::AppError;

/// An HTML page as a response.
pub(crate) struct Page(pub Markup);

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            self.0.into_string(),
        )
            .into_response()
    }
}

/// Which part of the console a page belongs to (the navigation marks it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Dashboard,
    Approvals,
    Reports,
    Directory,
    People,
    Admin,
    None,
}

/// The frame of every signed-in page: language and direction, navigation, the language
/// switcher and sign-out (both plain forms).
pub(crate) fn layout(u: &ConsoleUser, title: &str, nav: Nav, here: &str, body: Markup) -> Page {
    let l = u.locale;
    let role = u.user().role;
    let link = |n: Nav, href: &str, key: &str| {
        html! {
            a href=(href) aria-current=[(nav == n).then_some("page")] { (l.t(key)) }
        }
    };
    Page(html! {
        (DOCTYPE)
        html lang=(l.code) dir=(l.dir()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · fieldcase" }
                link rel="stylesheet" href="/console/static/console.css";
            }
            body {
                header.top {
                    a.brand href="/console" { "fieldcase" }
                    nav aria-label=(l.t("nav-label")) {
                        (link(Nav::Dashboard, "/console", "nav-dashboard"))
                        @if role.has_authority() {
                            (link(Nav::Approvals, "/console/approvals", "nav-approvals"))
                        }
                        (link(Nav::Reports, "/console/reports", "nav-reports"))
                        (link(Nav::Directory, "/console/directory", "nav-directory"))
                        @if role.has_authority() {
                            (link(Nav::People, "/console/people", "nav-people"))
                        }
                        @if role == fieldcase_core::Role::Admin {
                            (link(Nav::Admin, "/console/admin", "nav-admin"))
                        }
                    }
                    div.me {
                        a.who href="/console/account" { bdi { (u.user().display_name) } " · " (l.t(&format!("role-{}", role.code()))) }
                        form.inline method="post" action="/console/language" {
                            input type="hidden" name="csrf" value=(u.csrf);
                            input type="hidden" name="next" value=(here);
                            label { span.sr { (l.t("language")) }
                                select name="lang" {
                                    @for loc in &LOCALES {
                                        option value=(loc.code) lang=(loc.code) selected[loc.code == l.code] { (loc.name) }
                                    }
                                }
                            }
                            button type="submit" { (l.t("language-switch")) }
                        }
                        form.inline method="post" action="/console/logout" {
                            input type="hidden" name="csrf" value=(u.csrf);
                            button type="submit" { (l.t("sign-out")) }
                        }
                    }
                }
                main { (body) }
            }
        }
    })
}

/// The sign-in page.
pub(crate) fn login_page(l: &Locale, nonce: &str, error: Option<&str>) -> Page {
    Page(html! {
        (DOCTYPE)
        html lang=(l.code) dir=(l.dir()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (l.t("sign-in")) " · fieldcase" }
                link rel="stylesheet" href="/console/static/console.css";
            }
            body.login {
                main {
                    h1 { "fieldcase" }
                    p { (l.t("login-intro")) }
                    @if let Some(e) = error {
                        p.error role="alert" { (l.t(e)) }
                    }
                    form method="post" action="/console/login" {
                        input type="hidden" name="login_token" value=(nonce);
                        label { (l.t("username")) input name="username" autocomplete="username" required; }
                        label { (l.t("password")) input name="password" type="password" autocomplete="current-password" required; }
                        button type="submit" { (l.t("sign-in")) }
                    }
                }
            }
        }
    })
}

/// An error as a page. The message for bad input is ours (never the input); the rest are
/// fixed texts. A case that is hidden and one that does not exist get the same page.
/// A problem in the reader's words, its arguments as the record says them: a field's path
/// as its section and label, stages by their names, numbers in the language's digits.
pub(crate) fn problem_said(
    l: &Locale,
    problem: crate::error::Problem,
    args: &[(&'static str, String)],
) -> String {
    let shown: Vec<(&str, fluent_bundle::FluentValue<'_>)> = args
        .iter()
        .map(|(k, v)| {
            let said: fluent_bundle::FluentValue<'_> = match *k {
                "path" => super::record::path_label(l, v).into(),
                "from" | "to" => l.code("stage", v).into(),
                // Names as they are, even of digits.
                "team" | "username" | "prefix" | "area" => v.clone().into(),
                // A number as a number: the language's digits, and its plural forms.
                _ => match v.parse::<i64>() {
                    Ok(n) => n.into(),
                    Err(_) => v.clone().into(),
                },
            };
            (*k, said)
        })
        .collect();
    l.ta(
        &format!("problem-{}", problem.code().replace('_', "-")),
        &shown,
    )
}

pub(crate) fn error_page(l: &Locale, u: Option<&ConsoleUser>, e: AppError) -> Response {
    if let AppError::Internal(detail) = &e {
        tracing::error!(detail = %fieldcase_core::error::printable(detail), "console: internal error");
    }
    let (status, _) = e.code();
    // A refusal is said in the reader's language by its kind; the rule's own words
    // (English, as the server's log and the API say them) follow in small print.
    let said = match &e {
        AppError::Refused { refusal, .. } => Some(l.code("refusal", refusal.kind.code())),
        AppError::Invalid { problem, args, .. } => Some(problem_said(l, *problem, args)),
        _ => None,
    };
    let (title, detail) = match &e {
        AppError::BadRequest(reason) => (l.t("error-bad-request"), Some(reason.clone())),
        AppError::Invalid {
            problem, message, ..
        } => (
            l.t(if problem.conflict() {
                "error-conflict"
            } else {
                "error-bad-request"
            }),
            Some(message.clone()),
        ),
        AppError::Conflict(reason) => (l.t("error-conflict"), Some(reason.clone())),
        AppError::Refused { refusal, conflict } => (
            l.t(if *conflict {
                "error-conflict"
            } else {
                "error-bad-request"
            }),
            Some(refusal.message.clone()),
        ),
        AppError::NotFound => (l.t("error-not-found"), None),
        AppError::Forbidden | AppError::Disabled => (l.t("error-forbidden"), None),
        AppError::Unauthenticated => (l.t("error-unauthenticated"), None),
        AppError::TooManyRequests => (l.t("error-too-many"), None),
        // The console is not an app of a schema revision: it never answers this.
        AppError::Internal(_) | AppError::UpdateApp { .. } => (l.t("error-internal"), None),
    };
    let body = html! {
        h1 { (title) }
        @if let Some(said) = &said {
            p.error role="alert" { (said) }
            @if let Some(d) = detail { p.muted lang="en" dir="ltr" { (d) } }
        } @else if let Some(d) = detail { p.error role="alert" { (d) } }
        p { a href="/console" { (l.t("back-to-dashboard")) } }
    };
    let page = match u {
        Some(u) => layout(u, &title, Nav::None, "/console", body),
        None => Page(html! {
            (DOCTYPE)
            html lang=(l.code) dir=(l.dir()) {
                head { meta charset="utf-8"; title { (title) } link rel="stylesheet" href="/console/static/console.css"; }
                body.login { main { (body) p { a href="/console/login" { (l.t("sign-in")) } } } }
            }
        }),
    };
    (status, page).into_response()
}

/// A count with its message (plural rules of the language).
pub(crate) fn count(l: &Locale, key: &str, n: usize) -> String {
    l.ta(key, &[("count", FluentValue::from(n))])
}

/// Who changed something and when, small print: the user as the server registered the
/// change's device, and a time the device claimed far from the receipt marked as such.
pub(crate) fn byline(l: &Locale, a: &Shown) -> Markup {
    html! {
        span.by {
            bdi { (a.name.clone().unwrap_or_else(|| l.t("someone"))) }
            " · " time datetime=(a.at) { (l.datetime(&a.at)) }
            (claimed(l, a))
        }
    }
}

/// The device's own time of a change, where it is far from the receipt shown instead.
pub(crate) fn claimed(l: &Locale, a: &Shown) -> Markup {
    html! {
        @if let Some(c) = &a.claimed {
            " " span.badge.time-claimed title=(l.t("time-claimed-explain")) {
                (l.t("time-claimed")) " " time datetime=(c) { (l.datetime(c)) }
            }
        }
    }
}

/// The conclusion of a case's latest risk judgement as a badge: a child-protection
/// finding in the seed's words; an earlier risk code that meant none, marked as needing a
/// new conclusion; nothing for a kind of case that does not conclude about abuse.
pub(crate) fn risk_badge(l: &Locale, s: &fieldcase_core::store::CaseSummary) -> Markup {
    let concludes = s.case_kind.is_none_or(|k| k.has_findings());
    match (s.finding, s.earlier_level) {
        (Some(f), _) => finding_badge(l, Some(f)),
        (None, Some(level)) => html! {
            span.badge.earlier title=(l.t("earlier-scale-explain")) {
                (l.code("risk", level.code())) " · " (l.t("earlier-scale"))
            }
        },
        (None, None) if concludes => finding_badge(l, None),
        (None, None) => html! {},
    }
}

/// A child-protection finding (or none yet) as a badge.
pub(crate) fn finding_badge(l: &Locale, f: Option<fieldcase_core::case::Finding>) -> Markup {
    match f {
        Some(f) => html! {
            span class=(format!("badge finding-{}", f.code())) { (l.code("finding", f.code())) }
        },
        None => html! { span.badge { (l.t("risk-unknown")) } },
    }
}

/// The emergency badge: flagged, and its safety not yet secured.
pub(crate) fn emergency_badge(l: &Locale) -> Markup {
    html! { span.badge.emergency { (l.t("emergency")) } }
}

/// A stage as a badge.
pub(crate) fn stage_badge(l: &Locale, stage: fieldcase_core::Stage) -> Markup {
    html! { span class=(format!("badge stage-{}", stage.code())) { (l.code("stage", stage.code())) } }
}

/// The hidden CSRF field of a form.
pub(crate) fn csrf(u: &ConsoleUser) -> Markup {
    html! { input type="hidden" name="csrf" value=(u.csrf); }
}

/// Percent-encodes a value for a URL path segment or query value (RFC 3986: everything
/// but unreserved characters).
pub(crate) fn url_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a change did, in the user's language. The core names each change with its action
/// in English (`approve plan`, `add visits`, `set client/address`, `stage planning ->
/// implementation`): known actions are translated, field paths are kept as they are.
pub(crate) fn action(l: &Locale, message: &str) -> String {
    let fixed = format!("act-{}", message.replace(' ', "-"));
    // Only the core's own spelling (lower-case words and spaces) is looked up: a message
    // is written by whoever made the change, so "approve-plan" must not read as an action.
    let words = message.chars().all(|c| c.is_ascii_lowercase() || c == ' ');
    if words && !message.is_empty() && message != "add" && message != "set" && message != "edit" {
        let t = l.t(&fixed);
        if t != fixed {
            return t;
        }
    }
    if let Some(rest) = message.strip_prefix("stage ") {
        if let Some((from, to)) = rest.split_once(" -> ") {
            return format!(
                "{}: {} → {}",
                l.t("act-stage"),
                l.code("stage", from),
                l.code("stage", to)
            );
        }
    }
    if let Some(list) = message.strip_prefix("add ") {
        let key = match list {
            "visits" | "visit" => "section-visits",
            "referrals" => "section-referrals",
            "appointments" => "section-appointments",
            "reviews" | "review" => "section-reviews",
            "assessments" => "section-assessments",
            "problems" => "section-plan",
            "activities" => "f-activity",
            "consents" => "consents",
            "contacts" => "contacts",
            "household" => "household",
            _ => return format!("{} {list}", l.t("act-add")),
        };
        return format!("{}: {}", l.t("act-add"), l.t(key));
    }
    for verb in ["set", "edit"] {
        if let Some(path) = message.strip_prefix(verb).and_then(|r| r.strip_prefix(' ')) {
            return format!("{} {path}", l.t(&format!("act-{verb}")));
        }
    }
    // Anything else is the device's own words, shown as such.
    if message.is_empty() {
        return String::new();
    }
    format!("{} “{message}”", l.t("act-edit"))
}

/// What a device said of its unsynced work at its last sync, in words: how many cases,
/// whether that sync ended, and when.
pub(crate) fn unsynced(l: &Locale, u: Option<&crate::db::Unsynced>) -> Markup {
    match u {
        None => html! { span.muted { (l.t("unsynced-unknown")) } },
        Some(u) => {
            let n = fluent_bundle::FluentValue::from(u.cases);
            let when = html! { " · " small.muted { (l.millis(u.at)) } };
            match (u.done, u.cases) {
                (true, 0) => html! { (l.t("unsynced-none")) (when) },
                (true, _) => html! { strong { (l.ta("unsynced-after", &[("count", n)])) } (when) },
                (false, _) => html! { strong { (l.ta("unsynced-cut", &[("count", n)])) } (when) },
            }
        }
    }
}

/// A client's name as initials ("Z. A."), for a restricted case whose name the viewer has
/// not chosen to show: the first letter of each word (a Thai leading vowel is passed over
/// to the consonant it precedes).
pub(crate) fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| {
            w.chars()
                .find(|c| c.is_alphabetic() && !('\u{0E40}'..='\u{0E44}').contains(c))
        })
        .map(|c| format!("{c}."))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The name a list shows for a case: initials when it is restricted.
pub(crate) fn listed_name(name: &str, restricted: bool) -> String {
    if restricted {
        initials(name)
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod name_tests {
    use super::initials;

    #[test]
    fn initials_take_each_words_first_letter_in_every_script() {
        assert_eq!(initials("زهرا احمدی"), "ز. ا.");
        assert_eq!(initials("Фёдорова Анна"), "Ф. А.");
        assert_eq!(initials("Nguyễn Thị Lan"), "N. T. L.");
        assert_eq!(initials("เอกชัย ใจดี"), "อ. จ.");
        assert_eq!(initials("  "), "");
    }
}
