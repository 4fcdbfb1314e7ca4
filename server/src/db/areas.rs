//! The agency's areas (issue 21, counts by area): the communes, districts or whatever unit
//! the agency works in, each a code and a name, kept by the server like its teams and
//! written once here over the rows each storage reads and writes ([`AreaRows`]).
//!
//! A case holds only its client's area code (`client/area`, schema revision 5), so an area
//! renamed needs no case rewritten; codes are never removed (a phone offline may have
//! chosen one), only renamed. What a code may look like is the core's
//! ([`fieldcase_core::schema::is_area_code`]); how many areas and how long their names are
//! the server's settings (`areas.max`, `areas.max_name_chars`); refusals are counted
//! (`fieldcase_areas_refused_total`).

use serde::{Deserialize, Serialize};

use super::accounts::StorageError;
use crate::error::{AppError, AppResult, Problem};
use fieldcase_core::schema::{is_area_code, AREA_CODE_MAX};

/// The default of `areas.max`: every commune of a Vietnamese province (a few hundred) or
/// the districts of a country, many times over.
pub const DEFAULT_MAX_AREAS: usize = 5_000;
/// The default of `areas.max_name_chars`.
pub const DEFAULT_MAX_NAME_CHARS: usize = 100;

/// An area: its code (the key cases hold, never changed) and what people call it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    pub code: String,
    pub name: String,
}

/// The bounds an area write is checked against (from the settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AreaLimits {
    pub max_areas: usize,
    pub max_name_chars: usize,
}

impl Default for AreaLimits {
    fn default() -> Self {
        AreaLimits {
            max_areas: DEFAULT_MAX_AREAS,
            max_name_chars: DEFAULT_MAX_NAME_CHARS,
        }
    }
}

/// What a storage did with an area write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaWrite {
    Added,
    Renamed,
    /// A new code past `max` areas: nothing written.
    Full,
}

/// The rows each storage keeps.
pub trait AreaRows {
    /// Every area, by code.
    fn area_rows(&self) -> Result<Vec<Area>, StorageError>;
    /// Adds the area, or renames the one with its code; a new code when `max` areas are
    /// stored already is [`AreaWrite::Full`] (checked in the write's transaction).
    fn put_area_row(&self, area: &Area, max: usize, now: i64) -> Result<AreaWrite, StorageError>;
}

/// An area code as given (trimmed), if it is shaped like one.
pub fn code(code: &str) -> AppResult<&str> {
    let code = code.trim();
    if !is_area_code(code) {
        return Err(AppError::invalid(
            Problem::AreaCodeInvalid,
            format!("an area code has 1 to {AREA_CODE_MAX} letters, digits, '-', '_' or '.'"),
        )
        .with("max", AREA_CODE_MAX.to_string()));
    }
    Ok(code)
}

/// An area name as given (trimmed, at most `max` characters, no control characters).
pub fn name(name: &str, max: usize) -> AppResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > max || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            Problem::AreaNameInvalid,
            format!("an area's name has 1 to {max} characters"),
        )
        .with("max", max.to_string()));
    }
    Ok(name)
}

/// An area code that is not in the list (its code as given, cut to the longest code).
pub fn no_such_area(code: &str) -> AppError {
    let code: String = code.trim().chars().take(AREA_CODE_MAX).collect();
    AppError::invalid(Problem::NoSuchArea, "no such area").with("area", code)
}

/// Adds an area or renames one (same code), after the checks above; past `max_areas` the
/// write is refused ([`Problem::TooManyAreas`]).
pub fn put_area(
    rows: &(impl AreaRows + ?Sized),
    code_given: &str,
    name_given: &str,
    limits: AreaLimits,
    now: i64,
) -> AppResult<(Area, AreaWrite)> {
    let area = Area {
        code: code(code_given)?.to_string(),
        name: name(name_given, limits.max_name_chars)?.to_string(),
    };
    match rows.put_area_row(&area, limits.max_areas, now)? {
        AreaWrite::Full => Err(AppError::invalid(
            Problem::TooManyAreas,
            format!("the server keeps at most {} areas", limits.max_areas),
        )
        .with("max", limits.max_areas.to_string())),
        w => Ok((area, w)),
    }
}
