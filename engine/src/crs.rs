//! Coordinate reference systems through PROJ (the system libproj, shared with GDAL).
//!
//! The scene lives in one projected frame ([`crate::SceneFrame`]): a projected CRS in metres, minus an origin so
//! that local coordinates stay small. Every input is transformed into it with [`Transform`]; [`describe`] checks a
//! CRS definition (`EPSG:25832`, WKT, a PROJ string) and tells what kind it is.
//!
//! Axis order is always normalised to easting/northing, longitude/latitude (PROJ's
//! `proj_normalize_for_visualization`), whatever the CRS's official order.
//!
//! # Glossary
//! - **CRS**: coordinate reference system. **Projected**: planar coordinates in a linear unit. **Geographic**:
//!   longitude/latitude in degrees. **Compound**: a horizontal CRS plus a vertical one (EPSG:7415 = RD New + NAP).
//! - **UTM**: Universal Transverse Mercator, 60 zones of 6° longitude; the default scene frame.

// PROJ's C API is the only way to ask a CRS for its type, identifier and units, and to share one context (and
// its database connection) between objects; the `proj` crate exposes transformations only, each with a context
// of its own. The unsafe code here is confined to this module: every PROJ object is owned by a `Pj`, which holds
// its thread's `Context` alive and is neither `Send` nor `Sync`, so objects are used and freed on the thread that
// made them, before their context.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::ffi::{CStr, CString};
use std::rc::Rc;
use thiserror::Error;

/// Errors from CRS handling.
#[derive(Debug, Error)]
pub enum CrsError {
    /// PROJ does not know the definition.
    #[error("unknown or invalid CRS `{definition}`: {reason}")]
    Unknown {
        /// The definition as given.
        definition: String,
        /// PROJ's explanation.
        reason: String,
    },
    /// The definition is a CRS, but not one that can serve where it was asked for.
    #[error("CRS `{definition}` cannot be used here: {reason}")]
    Unsuitable {
        /// The definition as given.
        definition: String,
        /// Why not.
        reason: String,
    },
    /// PROJ could not build a transformation between two CRSs.
    #[error("no transformation from `{from}` to `{to}`: {reason}")]
    NoTransformation {
        /// Source CRS.
        from: String,
        /// Target CRS.
        to: String,
        /// PROJ's explanation.
        reason: String,
    },
    /// A coordinate could not be transformed (outside the CRS's domain).
    #[error("coordinate ({}, {}) cannot be transformed from `{from}` to `{to}`", number(*x), number(*y))]
    OutOfDomain {
        /// Source CRS.
        from: String,
        /// Target CRS.
        to: String,
        /// The coordinate.
        x: f64,
        /// The coordinate.
        y: f64,
    },
}

/// A coordinate for a message: plain decimals where they are readable, scientific notation for absurd
/// magnitudes (1e308 would otherwise print as 309 digits).
pub fn number(v: f64) -> String {
    if v.is_finite() && v.abs() < 1e12 {
        format!("{}", (v * 1e6).round() / 1e6)
    } else {
        format!("{v:e}")
    }
}

/// What kind of CRS a definition is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrsKind {
    /// Longitude/latitude.
    Geographic,
    /// Planar, in a linear unit.
    Projected,
    /// Earth-centred XYZ.
    Geocentric,
    /// A local engineering frame.
    Engineering,
    /// Anything else (vertical, temporal...).
    Other,
}

/// A described CRS.
#[derive(Clone, Debug, PartialEq)]
pub struct CrsInfo {
    /// The shortest faithful definition: `AUTHORITY:CODE` where PROJ knows one, else WKT2.
    pub definition: String,
    /// Human name, e.g. `WGS 84 / UTM zone 35N`.
    pub name: String,
    /// Kind of the horizontal part.
    pub kind: CrsKind,
    /// Definition of the horizontal part alone (the same as `definition` unless compound).
    pub horizontal: String,
    /// Metres per unit of the first horizontal axis (1 for metres; degrees give the angular factor in radians).
    pub unit_factor: f64,
}

/// A PROJ context. Every thread has one ([`Context::current`]) that all PROJ objects made there share, so PROJ's
/// database is opened once per thread rather than once per object (each opening parses its schema: milliseconds).
/// PROJ's log goes to a per-thread buffer instead of stderr; [`Context::take_message`] reads it into errors.
struct Context(*mut proj_sys::PJ_CONTEXT);

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: created by proj_context_create in `Context::create`; every object made in it holds an `Rc` of
        // it, so none is left when it is destroyed.
        unsafe {
            proj_sys::proj_context_destroy(self.0);
        }
    }
}

thread_local! {
    static CONTEXT: Rc<Context> = Rc::new(Context::create());
    static MESSAGE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// PROJ's log callback: keeps the latest error message of this thread for [`Context::take_message`].
extern "C" fn keep_message(
    _app: *mut std::os::raw::c_void,
    _level: std::os::raw::c_int,
    msg: *const std::os::raw::c_char,
) {
    // No panic may cross into C: every step here is fallible and its failure ignored.
    if let Some(text) = cstr(msg) {
        let _ = MESSAGE.try_with(|m| {
            if let Ok(mut m) = m.try_borrow_mut() {
                *m = text;
            }
        });
    }
}

impl Context {
    fn create() -> Self {
        // SAFETY: a fresh context, configured before any use. (proj_context_create returns null only when out of
        // memory, where PROJ's calls fall back to its default context.)
        unsafe {
            let ctx = proj_sys::proj_context_create();
            proj_sys::proj_log_level(ctx, proj_sys::PJ_LOG_LEVEL_PJ_LOG_ERROR);
            proj_sys::proj_log_func(ctx, std::ptr::null_mut(), Some(keep_message));
            Context(ctx)
        }
    }

    /// This thread's context (a fresh one during thread teardown, when the thread's own is gone).
    fn current() -> Rc<Context> {
        CONTEXT
            .try_with(Rc::clone)
            .unwrap_or_else(|_| Rc::new(Context::create()))
    }

    /// Forgets PROJ's last message, before a call whose failure is to be explained.
    fn clear_message() {
        let _ = MESSAGE.try_with(|m| m.borrow_mut().clear());
    }

    /// Why the last call failed: PROJ's logged message, else its error code's text.
    fn take_message(&self) -> String {
        let logged = MESSAGE
            .try_with(|m| std::mem::take(&mut *m.borrow_mut()))
            .unwrap_or_default();
        if !logged.is_empty() {
            // PROJ prefixes the function name ("proj_create: crs not found").
            return match logged.split_once(": ") {
                Some((f, rest)) if f.starts_with("proj_") => rest.to_owned(),
                _ => logged,
            };
        }
        // SAFETY: a valid context; the string is static in PROJ.
        unsafe {
            let errno = proj_sys::proj_context_errno(self.0);
            cstr(proj_sys::proj_context_errno_string(self.0, errno))
                .unwrap_or_else(|| "PROJ gives no reason".into())
        }
    }
}

/// A PROJ object, with the context it was made in (which lives at least as long).
struct Pj {
    ptr: *mut proj_sys::PJ,
    ctx: Rc<Context>,
}

impl Pj {
    /// Owns `ptr`, made in `ctx`; `None` for null (a failed call).
    fn wrap(ctx: &Rc<Context>, ptr: *mut proj_sys::PJ) -> Option<Pj> {
        (!ptr.is_null()).then(|| Pj {
            ptr,
            ctx: Rc::clone(ctx),
        })
    }
}

impl Drop for Pj {
    fn drop(&mut self) {
        // SAFETY: a PJ we own, destroyed once, before its context (held by `self.ctx`).
        unsafe {
            proj_sys::proj_destroy(self.ptr);
        }
    }
}

fn cstr(p: *const std::os::raw::c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: PROJ returns NUL-terminated strings that live as long as their object.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

fn identify(pj: &Pj) -> String {
    // SAFETY: pj is a valid PJ; index 0 is the first identifier, null if none.
    let (auth, code) = unsafe {
        (
            cstr(proj_sys::proj_get_id_auth_name(pj.ptr, 0)),
            cstr(proj_sys::proj_get_id_code(pj.ptr, 0)),
        )
    };
    match (auth, code) {
        (Some(a), Some(c)) => format!("{a}:{c}"),
        _ => {
            // SAFETY: valid ctx and pj; null options.
            let wkt = unsafe {
                cstr(proj_sys::proj_as_wkt(
                    pj.ctx.0,
                    pj.ptr,
                    proj_sys::PJ_WKT_TYPE_PJ_WKT2_2019,
                    std::ptr::null(),
                ))
            };
            wkt.unwrap_or_default()
        }
    }
}

/// Describes a CRS definition: `EPSG:3067`, `urn:ogc:def:crs:EPSG::7415`, WKT, or a PROJ string.
///
/// Answers are kept for the life of the process (a description is a pure function of the definition, and asking
/// PROJ costs a context and a query of its database, milliseconds each time).
///
/// # Errors
/// [`CrsError::Unknown`] when PROJ cannot make a CRS of it.
pub fn describe(definition: &str) -> Result<CrsInfo, CrsError> {
    if let Some(info) = well_known(definition) {
        return Ok(info);
    }
    if let Some(info) = known().get(definition) {
        return Ok(info.clone());
    }
    let info = describe_uncached(definition)?;
    remember(definition, &info);
    Ok(info)
}

/// WGS 84 (`None`) or one of its UTM zones (`Some((zone, south))`), by EPSG code: the definitions citytwin
/// chooses itself (every OSM import, most GeoJSON ones).
fn wgs84_utm(definition: &str) -> Option<Option<(u32, bool)>> {
    let digits = definition.strip_prefix("EPSG:")?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return None;
    }
    match digits.parse::<u32>().ok()? {
        4326 => Some(None),
        c @ 32601..=32660 => Some(Some((c - 32600, false))),
        c @ 32701..=32760 => Some(Some((c - 32700, true))),
        _ => None,
    }
}

/// WGS 84 and its UTM zones described without PROJ's database, whose opening costs a small import about a tenth
/// of its time: the same answers the database gives (a test compares them).
fn well_known(definition: &str) -> Option<CrsInfo> {
    let def = definition.to_owned();
    Some(match wgs84_utm(definition)? {
        None => CrsInfo {
            definition: def.clone(),
            name: "WGS 84".into(),
            kind: CrsKind::Geographic,
            horizontal: def,
            unit_factor: 1f64.to_radians(),
        },
        Some((zone, south)) => CrsInfo {
            definition: def.clone(),
            name: format!("WGS 84 / UTM zone {zone}{}", if south { "S" } else { "N" }),
            kind: CrsKind::Projected,
            horizontal: def,
            unit_factor: 1.0,
        },
    })
}

/// The PROJ pipeline between WGS 84 and its UTM zones, as PROJ's database gives it with axes in
/// longitude/latitude and easting/northing order (a test compares them), built without the database.
fn well_known_pipeline(from: &str, to: &str) -> Option<String> {
    let utm = |zone: u32, south: bool| {
        format!(
            "+proj=utm +zone={zone}{} +ellps=WGS84",
            if south { " +south" } else { "" }
        )
    };
    let degrees = "+proj=unitconvert +xy_in=deg +xy_out=rad";
    Some(match (wgs84_utm(from)?, wgs84_utm(to)?) {
        (None, Some((z, s))) => format!("+proj=pipeline +step {degrees} +step {}", utm(z, s)),
        (Some((z, s)), None) => format!(
            "+proj=pipeline +step +inv {} +step +proj=unitconvert +xy_in=rad +xy_out=deg",
            utm(z, s)
        ),
        (Some((z1, s1)), Some((z2, s2))) if (z1, s1) != (z2, s2) => format!(
            "+proj=pipeline +step +inv {} +step {}",
            utm(z1, s1),
            utm(z2, s2)
        ),
        _ => return None,
    })
}

/// The descriptions made so far. A poisoned lock only means another thread panicked while inserting a finished
/// answer: the map is whole.
fn known() -> std::sync::MutexGuard<'static, std::collections::HashMap<String, CrsInfo>> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static KNOWN: OnceLock<Mutex<HashMap<String, CrsInfo>>> = OnceLock::new();
    KNOWN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

fn remember(definition: &str, info: &CrsInfo) {
    let mut map = known();
    // Bounded: a long-lived process given ever new WKT strings keeps at most this many.
    if map.len() >= 256 {
        map.clear();
    }
    map.insert(definition.to_owned(), info.clone());
}

fn describe_uncached(definition: &str) -> Result<CrsInfo, CrsError> {
    let unknown = |reason: &str| CrsError::Unknown {
        definition: definition.to_owned(),
        reason: reason.to_owned(),
    };
    let cdef = CString::new(definition.trim()).map_err(|_| unknown("contains a NUL byte"))?;
    let ctx = Context::current();
    let c = ctx.0;
    // SAFETY: every PJ made below is owned by a `Pj` and freed on drop; they are used on this thread only.
    unsafe {
        Context::clear_message();
        let Some(pj) = Pj::wrap(&ctx, proj_sys::proj_create(c, cdef.as_ptr())) else {
            return Err(unknown(&ctx.take_message()));
        };
        let mut ty = proj_sys::proj_get_type(pj.ptr);
        let name = cstr(proj_sys::proj_get_name(pj.ptr)).unwrap_or_default();
        let full = identify(&pj);
        // Unwrap bound CRSs (WKT1 with TOWGS84) to their base.
        let base = if ty == proj_sys::PJ_TYPE_PJ_TYPE_BOUND_CRS {
            let Some(b) = Pj::wrap(&ctx, proj_sys::proj_get_source_crs(c, pj.ptr)) else {
                return Err(unknown("bound CRS without a source CRS"));
            };
            ty = proj_sys::proj_get_type(b.ptr);
            Some(b)
        } else {
            None
        };
        let crs = base.as_ref().unwrap_or(&pj);
        let horiz_owned;
        let (horiz, horizontal) = if ty == proj_sys::PJ_TYPE_PJ_TYPE_COMPOUND_CRS {
            let Some(h) = Pj::wrap(&ctx, proj_sys::proj_crs_get_sub_crs(c, crs.ptr, 0)) else {
                return Err(unknown("compound CRS without a horizontal part"));
            };
            horiz_owned = h;
            ty = proj_sys::proj_get_type(horiz_owned.ptr);
            let def = identify(&horiz_owned);
            (&horiz_owned, def)
        } else {
            (crs, full.clone())
        };
        let kind = match ty {
            proj_sys::PJ_TYPE_PJ_TYPE_GEOGRAPHIC_2D_CRS
            | proj_sys::PJ_TYPE_PJ_TYPE_GEOGRAPHIC_3D_CRS
            | proj_sys::PJ_TYPE_PJ_TYPE_GEOGRAPHIC_CRS => CrsKind::Geographic,
            proj_sys::PJ_TYPE_PJ_TYPE_PROJECTED_CRS => CrsKind::Projected,
            proj_sys::PJ_TYPE_PJ_TYPE_GEOCENTRIC_CRS => CrsKind::Geocentric,
            proj_sys::PJ_TYPE_PJ_TYPE_ENGINEERING_CRS => CrsKind::Engineering,
            t if t < proj_sys::PJ_TYPE_PJ_TYPE_CRS => {
                return Err(unknown("it is a coordinate operation, not a CRS"))
            }
            _ => CrsKind::Other,
        };
        let cs = Pj::wrap(&ctx, proj_sys::proj_crs_get_coordinate_system(c, horiz.ptr));
        let mut unit_factor = f64::NAN;
        if let Some(cs) = cs {
            proj_sys::proj_cs_get_axis_info(
                c,
                cs.ptr,
                0,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &mut unit_factor,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
        }
        Ok(CrsInfo {
            definition: full,
            name,
            kind,
            horizontal,
            unit_factor,
        })
    }
}

/// Checks that `definition` can be a scene frame: a projected CRS in metres.
///
/// # Errors
/// [`CrsError::Unknown`] for an unknown CRS; [`CrsError::Unsuitable`] for a geographic CRS or other units.
pub fn describe_scene_crs(definition: &str) -> Result<CrsInfo, CrsError> {
    let info = describe(definition)?;
    let unsuitable = |reason: String| CrsError::Unsuitable {
        definition: definition.to_owned(),
        reason,
    };
    if info.kind != CrsKind::Projected {
        return Err(unsuitable(format!(
            "a scene needs a projected CRS in metres, and `{}` is {:?}",
            info.name, info.kind
        )));
    }
    if (info.unit_factor - 1.0).abs() > 1e-9 {
        return Err(unsuitable(format!(
            "a scene needs metres, and `{}` has a unit of {} m",
            info.name, info.unit_factor
        )));
    }
    Ok(info)
}

/// The longitude range of `lons` (degrees in -180..180) as `(west, east)`: the narrower of the plain range and
/// the range taken across the antimeridian, which RFC 7946 writes with west > east (179.9 .. -179.9). Its width
/// in degrees is `east - west`, plus 360 when it wraps. `None` without finite longitudes.
pub fn lon_range(lons: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut slo, mut shi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in lons.into_iter().filter(|x| x.is_finite()) {
        (lo, hi) = (lo.min(x), hi.max(x));
        let s = if x < 0.0 { x + 360.0 } else { x };
        (slo, shi) = (slo.min(s), shi.max(s));
    }
    if lo > hi {
        return None;
    }
    let wrap = |x: f64| if x > 180.0 { x - 360.0 } else { x };
    Some(if shi - slo < hi - lo {
        (wrap(slo), wrap(shi))
    } else {
        (lo, hi)
    })
}

/// The width in degrees of a [`lon_range`].
pub fn lon_width((west, east): (f64, f64)) -> f64 {
    if west > east {
        east - west + 360.0
    } else {
        east - west
    }
}

/// The WGS 84 / UTM zone for a longitude/latitude, as `EPSG:326zz` (north) or `EPSG:327zz` (south).
pub fn utm_zone_for(lon: f64, lat: f64) -> String {
    let lon = if lon.is_finite() { lon } else { 0.0 };
    let zone = (((lon + 180.0) / 6.0).floor() as i64).rem_euclid(60) + 1;
    if lat >= 0.0 {
        format!("EPSG:{}", 32600 + zone)
    } else {
        format!("EPSG:{}", 32700 + zone)
    }
}

/// A transformation between two CRSs (horizontal, 2D), or the identity when both are the same.
///
/// Building one asks PROJ's database for the operations between the two CRSs (milliseconds); a dropped one waits
/// idle on its thread and serves the next [`Transform::new`] between the same CRSs there. PROJ objects belong to
/// the thread that made them, so a `Transform` is not `Send`: parallel work hands each worker a
/// [`TransformRecipe`], from which it builds its own without the database.
pub struct Transform {
    op: Option<Pj>,
    from: String,
    to: String,
}

/// What a worker thread needs to build a [`Transform`] of its own ([`TransformRecipe::build`]); `Send` and `Sync`.
#[derive(Clone, Debug)]
pub struct TransformRecipe {
    from: String,
    to: String,
    identity: bool,
    /// The operation as a PROJ pipeline, when it is one operation. Where PROJ chooses among several per point
    /// (between datums with regional grids, say) there is none, and the worker asks the database itself.
    pipeline: Option<CString>,
}

/// Idle transformations kept per thread, the most recently returned last.
const IDLE_PER_THREAD: usize = 8;
thread_local! {
    static IDLE: RefCell<Vec<(String, String, Pj)>> = const { RefCell::new(Vec::new()) };
}

/// An idle transformation from `from` to `to` on this thread, if one waits.
fn take_idle(from: &str, to: &str) -> Option<Pj> {
    IDLE.try_with(|idle| {
        let mut idle = idle.borrow_mut();
        let i = idle.iter().rposition(|(a, b, _)| a == from && b == to)?;
        Some(idle.remove(i).2)
    })
    .ok()
    .flatten()
}

impl Drop for Transform {
    fn drop(&mut self) {
        if let Some(op) = self.op.take() {
            let (from, to) = (std::mem::take(&mut self.from), std::mem::take(&mut self.to));
            // During thread teardown the pool may be gone; the object is then simply destroyed.
            let _ = IDLE.try_with(|idle| {
                let mut idle = idle.borrow_mut();
                if idle.len() >= IDLE_PER_THREAD {
                    idle.remove(0);
                }
                idle.push((from, to, op));
            });
        }
    }
}

/// PROJ's operation from `from` to `to` (horizontal CRS definitions), axes in easting/northing and
/// longitude/latitude order; the error is PROJ's reason.
fn create_operation(from: &str, to: &str) -> Result<Pj, String> {
    if let Some(pipeline) = well_known_pipeline(from, to) {
        let ctx = Context::current();
        let p = CString::new(pipeline).map_err(|_| "a pipeline contains a NUL byte".to_owned())?;
        Context::clear_message();
        // SAFETY: a new object owned by a `Pj` in this thread's context.
        return Pj::wrap(&ctx, unsafe { proj_sys::proj_create(ctx.0, p.as_ptr()) })
            .ok_or_else(|| ctx.take_message());
    }
    database_operation(from, to)
}

/// [`create_operation`] through PROJ's database.
fn database_operation(from: &str, to: &str) -> Result<Pj, String> {
    let (Ok(f), Ok(t)) = (CString::new(from), CString::new(to)) else {
        return Err("a CRS definition contains a NUL byte".into());
    };
    let ctx = Context::current();
    // SAFETY: both objects are owned by `Pj`s in this thread's context; the normalised one is a new object.
    unsafe {
        Context::clear_message();
        let op = Pj::wrap(
            &ctx,
            proj_sys::proj_create_crs_to_crs(ctx.0, f.as_ptr(), t.as_ptr(), std::ptr::null_mut()),
        )
        .ok_or_else(|| ctx.take_message())?;
        Pj::wrap(
            &ctx,
            proj_sys::proj_normalize_for_visualization(ctx.0, op.ptr),
        )
        .ok_or_else(|| ctx.take_message())
    }
}

impl std::fmt::Debug for Transform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Transform({} -> {})", self.from, self.to)
    }
}

impl Transform {
    /// A transformation from `from` to `to` (any definitions [`describe`] accepts; compound CRSs use their
    /// horizontal part).
    ///
    /// # Errors
    /// [`CrsError::Unknown`] for an unknown CRS, [`CrsError::NoTransformation`] when PROJ finds no path.
    pub fn new(from: &str, to: &str) -> Result<Self, CrsError> {
        let f = describe(from)?;
        let t = describe(to)?;
        if f.horizontal == t.horizontal {
            return Ok(Transform {
                op: None,
                from: f.horizontal,
                to: t.horizontal,
            });
        }
        let op = match take_idle(&f.horizontal, &t.horizontal) {
            Some(op) => op,
            None => create_operation(&f.horizontal, &t.horizontal).map_err(|reason| {
                CrsError::NoTransformation {
                    from: from.to_owned(),
                    to: to.to_owned(),
                    reason,
                }
            })?,
        };
        Ok(Transform {
            op: Some(op),
            from: f.horizontal,
            to: t.horizontal,
        })
    }

    /// What another thread needs to build this transformation for itself.
    pub fn recipe(&self) -> TransformRecipe {
        // SAFETY: a valid operation of this thread's; the string lives as long as it and is copied at once.
        let pipeline = self.op.as_ref().and_then(|op| unsafe {
            cstr(proj_sys::proj_as_proj_string(
                op.ctx.0,
                op.ptr,
                proj_sys::PJ_PROJ_STRING_TYPE_PJ_PROJ_5,
                std::ptr::null(),
            ))
        });
        TransformRecipe {
            from: self.from.clone(),
            to: self.to.clone(),
            identity: self.op.is_none(),
            pipeline: pipeline.and_then(|p| CString::new(p).ok()),
        }
    }

    /// The target CRS (its horizontal part).
    pub fn target(&self) -> &str {
        &self.to
    }

    /// The source CRS (its horizontal part).
    pub fn source(&self) -> &str {
        &self.from
    }

    /// Whether this transformation leaves coordinates unchanged.
    pub fn is_identity(&self) -> bool {
        self.op.is_none()
    }

    /// Transforms points in place, all in one call to PROJ.
    ///
    /// # Errors
    /// [`CrsError::OutOfDomain`] naming the first point that cannot be transformed (the others may have been).
    pub fn apply(&self, points: &mut [(f64, f64)]) -> Result<(), CrsError> {
        let Some(op) = &self.op else {
            return Ok(());
        };
        if points.is_empty() {
            return Ok(());
        }
        // PROJ overwrites a point it cannot transform; the input is kept to name it.
        let before = points.to_vec();
        let n = points.len();
        let stride = std::mem::size_of::<(f64, f64)>();
        let base = points.as_mut_ptr();
        // SAFETY: `x` and `y` point at the first element's two fields and every element lies `stride` bytes
        // after the previous one, so the n values PROJ reads and writes along each are inside `points`, which is
        // borrowed mutably for the call; z and t are absent (PROJ takes 0 and "no time").
        let failed = unsafe {
            let x = std::ptr::addr_of_mut!((*base).0);
            let y = std::ptr::addr_of_mut!((*base).1);
            proj_sys::proj_errno_reset(op.ptr);
            proj_sys::proj_trans_generic(
                op.ptr,
                proj_sys::PJ_DIRECTION_PJ_FWD,
                x,
                stride,
                n,
                y,
                stride,
                n,
                std::ptr::null_mut(),
                0,
                0,
                std::ptr::null_mut(),
                0,
                0,
            );
            proj_sys::proj_errno(op.ptr) != 0
        };
        match points
            .iter()
            .position(|p| !p.0.is_finite() || !p.1.is_finite())
        {
            Some(i) => Err(self.out_of_domain(before[i])),
            None if failed => Err(self.out_of_domain(before[0])),
            None => Ok(()),
        }
    }

    /// Transforms one point.
    ///
    /// # Errors
    /// [`CrsError::OutOfDomain`] if it cannot be transformed.
    pub fn point(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        let mut p = [(x, y)];
        self.apply(&mut p)?;
        Ok(p[0])
    }

    fn out_of_domain(&self, p: (f64, f64)) -> CrsError {
        CrsError::OutOfDomain {
            from: self.from.clone(),
            to: self.to.clone(),
            x: p.0,
            y: p.1,
        }
    }
}

impl TransformRecipe {
    /// This thread's transformation: an idle one of its own, else one built from the pipeline (no database
    /// query), else one built anew as [`Transform::new`] does.
    ///
    /// # Errors
    /// As [`Transform::new`] (which built the original already, so in practice none).
    pub fn build(&self) -> Result<Transform, CrsError> {
        let made = |op| Transform {
            op,
            from: self.from.clone(),
            to: self.to.clone(),
        };
        if self.identity {
            return Ok(made(None));
        }
        if let Some(op) = take_idle(&self.from, &self.to) {
            return Ok(made(Some(op)));
        }
        if let Some(pipeline) = &self.pipeline {
            let ctx = Context::current();
            // SAFETY: a new object owned by a `Pj` in this thread's context.
            let op = Pj::wrap(&ctx, unsafe {
                proj_sys::proj_create(ctx.0, pipeline.as_ptr())
            });
            if op.is_some() {
                return Ok(made(op));
            }
        }
        Transform::new(&self.from, &self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_common_crs() {
        let utm = describe("EPSG:32635").expect("known");
        assert_eq!(utm.kind, CrsKind::Projected);
        assert_eq!(utm.definition, "EPSG:32635");
        assert!((utm.unit_factor - 1.0).abs() < 1e-12);
        let wgs = describe("EPSG:4326").expect("known");
        assert_eq!(wgs.kind, CrsKind::Geographic);
        let rd_nap = describe("EPSG:7415").expect("known");
        assert_eq!(rd_nap.kind, CrsKind::Projected);
        assert_eq!(rd_nap.horizontal, "EPSG:28992");
    }

    #[test]
    fn unknown_and_unsuitable() {
        assert!(matches!(
            describe("EPSG:999999"),
            Err(CrsError::Unknown { .. })
        ));
        assert!(matches!(
            describe("not a crs"),
            Err(CrsError::Unknown { .. })
        ));
        assert!(matches!(
            describe_scene_crs("EPSG:4326"),
            Err(CrsError::Unsuitable { .. })
        ));
        assert!(describe_scene_crs("EPSG:3067").is_ok());
    }

    #[test]
    fn utm_zones() {
        assert_eq!(utm_zone_for(26.95, 60.53), "EPSG:32635");
        assert_eq!(utm_zone_for(4.36, 52.0), "EPSG:32631");
        assert_eq!(utm_zone_for(-70.0, -33.0), "EPSG:32719");
        assert_eq!(utm_zone_for(180.0, 0.0), "EPSG:32601");
    }

    #[test]
    fn wgs84_and_utm_are_what_the_database_says() {
        for def in [
            "EPSG:4326",
            "EPSG:32601",
            "EPSG:32631",
            "EPSG:32635",
            "EPSG:32660",
            "EPSG:32701",
            "EPSG:32735",
            "EPSG:32760",
        ] {
            assert_eq!(
                well_known(def),
                Some(describe_uncached(def).expect("known")),
                "{def}"
            );
        }
        for not in [
            "EPSG:+4326",
            "EPSG:04326",
            "EPSG:32600",
            "EPSG:32661",
            "EPSG:3067",
            "epsg:4326",
        ] {
            assert_eq!(well_known(not), None, "{not}");
        }
        let pipeline = |op: Pj| {
            // SAFETY: a valid operation of this thread's; the string is copied at once.
            unsafe {
                cstr(proj_sys::proj_as_proj_string(
                    op.ctx.0,
                    op.ptr,
                    proj_sys::PJ_PROJ_STRING_TYPE_PJ_PROJ_5,
                    std::ptr::null(),
                ))
            }
        };
        for (from, to) in [
            ("EPSG:4326", "EPSG:32635"),
            ("EPSG:4326", "EPSG:32760"),
            ("EPSG:32635", "EPSG:4326"),
            ("EPSG:32719", "EPSG:4326"),
            ("EPSG:32634", "EPSG:32635"),
            ("EPSG:32735", "EPSG:32635"),
        ] {
            let db = pipeline(database_operation(from, to).expect("a path"));
            assert_eq!(well_known_pipeline(from, to), db, "{from} -> {to}");
            // And PROJ reads the string back as the same operation.
            let made = pipeline(create_operation(from, to).expect("a path"));
            assert_eq!(made, db, "{from} -> {to}");
        }
        assert_eq!(well_known_pipeline("EPSG:32635", "EPSG:32635"), None);
        assert_eq!(well_known_pipeline("EPSG:4326", "EPSG:3067"), None);
    }

    #[test]
    fn unknown_crs_carries_projs_reason() {
        let err = describe("EPSG:999999").expect_err("unknown").to_string();
        assert!(err.contains("crs not found"), "{err}");
    }

    #[test]
    fn a_recipe_builds_the_same_transformation_on_another_thread() {
        let fwd = Transform::new("EPSG:4326", "EPSG:32635").expect("known");
        let recipe = fwd.recipe();
        assert!(recipe.pipeline.is_some(), "one operation: a pipeline");
        let here = fwd.point(26.95, 60.47).expect("in domain");
        let there = std::thread::spawn(move || {
            let tf = recipe.build().expect("builds");
            (
                tf.target().to_owned(),
                tf.point(26.95, 60.47).expect("in domain"),
            )
        })
        .join()
        .expect("no panic");
        assert_eq!(there, ("EPSG:32635".to_owned(), here));
    }

    #[test]
    fn the_failing_point_is_named_by_its_input_and_the_pooled_object_recovers() {
        let fwd = Transform::new("EPSG:4326", "EPSG:32635").expect("known");
        let mut pts = [(27.0, 60.0), (27.0, 95.0), (27.0, 61.0)];
        match fwd.apply(&mut pts) {
            Err(CrsError::OutOfDomain { x, y, .. }) => assert_eq!((x, y), (27.0, 95.0)),
            other => panic!("expected out of domain, got {other:?}"),
        }
        drop(fwd);
        // The same PROJ object, back from the idle pool: its error state was reset.
        let again = Transform::new("EPSG:4326", "EPSG:32635").expect("known");
        let (x, _) = again.point(27.0, 60.0).expect("in domain");
        assert!((x - 500_000.0).abs() < 1e-6, "{x}");
    }

    #[test]
    fn transform_round_trip() {
        let fwd = Transform::new("EPSG:4326", "EPSG:32635").expect("known");
        let back = Transform::new("EPSG:32635", "EPSG:4326").expect("known");
        let (x, y) = fwd.point(27.0, 60.5).expect("in domain");
        // Zone 35's central meridian is 27°E: easting is the false easting.
        assert!((x - 500_000.0).abs() < 1e-6, "{x}");
        let (lon, lat) = back.point(x, y).expect("in domain");
        assert!((lon - 27.0).abs() < 1e-9 && (lat - 60.5).abs() < 1e-9);
        assert!(Transform::new("EPSG:7415", "EPSG:28992")
            .expect("known")
            .is_identity());
    }
}
