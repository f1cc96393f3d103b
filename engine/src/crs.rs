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

// PROJ's C API is the only way to ask a CRS for its type, identifier and units; the `proj` crate exposes
// transformations only. The unsafe code here is confined to `describe`, which owns and frees every PROJ object it
// creates before returning.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
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

struct Ctx(*mut proj_sys::PJ_CONTEXT);
impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: created by proj_context_create in `describe` and dropped once.
        unsafe {
            proj_sys::proj_context_destroy(self.0);
        }
    }
}
struct Pj(*mut proj_sys::PJ);
impl Drop for Pj {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: a PJ we own, destroyed once.
            unsafe {
                proj_sys::proj_destroy(self.0);
            }
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

fn identify(ctx: &Ctx, pj: &Pj) -> String {
    // SAFETY: pj is a valid PJ; index 0 is the first identifier, null if none.
    let (auth, code) = unsafe {
        (
            cstr(proj_sys::proj_get_id_auth_name(pj.0, 0)),
            cstr(proj_sys::proj_get_id_code(pj.0, 0)),
        )
    };
    match (auth, code) {
        (Some(a), Some(c)) => format!("{a}:{c}"),
        _ => {
            // SAFETY: valid ctx and pj; null options.
            let wkt = unsafe {
                cstr(proj_sys::proj_as_wkt(
                    ctx.0,
                    pj.0,
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
/// # Errors
/// [`CrsError::Unknown`] when PROJ cannot make a CRS of it.
pub fn describe(definition: &str) -> Result<CrsInfo, CrsError> {
    let unknown = |reason: &str| CrsError::Unknown {
        definition: definition.to_owned(),
        reason: reason.to_owned(),
    };
    let cdef = CString::new(definition.trim()).map_err(|_| unknown("contains a NUL byte"))?;
    // SAFETY: every PJ created below is wrapped in `Pj` and freed on drop, before `ctx`.
    unsafe {
        let ctx = Ctx(proj_sys::proj_context_create());
        let pj = Pj(proj_sys::proj_create(ctx.0, cdef.as_ptr()));
        if pj.0.is_null() {
            let errno = proj_sys::proj_context_errno(ctx.0);
            let msg = cstr(proj_sys::proj_context_errno_string(ctx.0, errno))
                .unwrap_or_else(|| "PROJ cannot parse it".into());
            return Err(unknown(&msg));
        }
        let mut ty = proj_sys::proj_get_type(pj.0);
        let name = cstr(proj_sys::proj_get_name(pj.0)).unwrap_or_default();
        let full = identify(&ctx, &pj);
        // Unwrap bound CRSs (WKT1 with TOWGS84) to their base.
        let base = if ty == proj_sys::PJ_TYPE_PJ_TYPE_BOUND_CRS {
            let b = Pj(proj_sys::proj_get_source_crs(ctx.0, pj.0));
            if b.0.is_null() {
                return Err(unknown("bound CRS without a source CRS"));
            }
            ty = proj_sys::proj_get_type(b.0);
            b
        } else {
            Pj(std::ptr::null_mut())
        };
        let crs = if base.0.is_null() { &pj } else { &base };
        let horiz_owned;
        let (horiz, horizontal) = if ty == proj_sys::PJ_TYPE_PJ_TYPE_COMPOUND_CRS {
            horiz_owned = Pj(proj_sys::proj_crs_get_sub_crs(ctx.0, crs.0, 0));
            if horiz_owned.0.is_null() {
                return Err(unknown("compound CRS without a horizontal part"));
            }
            ty = proj_sys::proj_get_type(horiz_owned.0);
            let def = identify(&ctx, &horiz_owned);
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
        let cs = Pj(proj_sys::proj_crs_get_coordinate_system(ctx.0, horiz.0));
        let mut unit_factor = f64::NAN;
        if !cs.0.is_null() {
            proj_sys::proj_cs_get_axis_info(
                ctx.0,
                cs.0,
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
pub struct Transform {
    proj: Option<proj::Proj>,
    from: String,
    to: String,
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
                proj: None,
                from: f.horizontal,
                to: t.horizontal,
            });
        }
        let proj = proj::Proj::new_known_crs(&f.horizontal, &t.horizontal, None).map_err(|e| {
            CrsError::NoTransformation {
                from: from.to_owned(),
                to: to.to_owned(),
                reason: e.to_string(),
            }
        })?;
        Ok(Transform {
            proj: Some(proj),
            from: f.horizontal,
            to: t.horizontal,
        })
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
        self.proj.is_none()
    }

    /// Transforms points in place.
    ///
    /// # Errors
    /// [`CrsError::OutOfDomain`] if a point cannot be transformed (the others may have been).
    pub fn apply(&self, points: &mut [(f64, f64)]) -> Result<(), CrsError> {
        let Some(proj) = &self.proj else {
            return Ok(());
        };
        if points.is_empty() {
            return Ok(());
        }
        let first = points[0];
        proj.convert_array(points)
            .map_err(|_| self.out_of_domain(first))?;
        if let Some(bad) = points.iter().find(|p| !p.0.is_finite() || !p.1.is_finite()) {
            return Err(self.out_of_domain(*bad));
        }
        Ok(())
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
