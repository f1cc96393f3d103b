//! CityJSON 1.0/1.1/2.0 buildings: `Building` and `BuildingPart` city objects with their best-LOD geometry.
//!
//! For each building the geometry with the highest LOD is kept as 3D surfaces (for the viewer); its footprint
//! is the ground surface (semantic `GroundSurface`, else the lowest horizontal surfaces, else the union of the
//! non-vertical surfaces seen from above); its height is the geometry's vertical extent and its base elevation
//! the lowest vertex. Vertices are decoded with the file's `transform`; the CRS comes from
//! `metadata.referenceSystem` (compound CRSs such as EPSG:7415 keep heights as given).
//!
//! # Glossary
//! - **city object**: one entry of `CityObjects`; **boundaries**: nested arrays of vertex indices, as deep as the
//!   geometry type needs (Solid: shells → surfaces → rings).
//! - **LOD**: level of detail, `"1"`, `"1.2"`, `"2.2"`...

use crate::attrs::json_to_value;
use crate::{default_layer_name, ImportError, ImportOptions, LayerBuilder};
use citytwin_engine::geometry::polygon_from_rings;
use citytwin_engine::{Building, HeightSource, Layer, LayerKind, LayerSource, Surfaces, Value};
use geo_types::{Coord, Geometry, Polygon};
use indicatif::ProgressBar;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;

/// A CRS definition from a CityJSON `referenceSystem`: OGC URL, URN, or `EPSG:code`.
pub fn crs_from_reference_system(rs: &str) -> String {
    let rs = rs.trim();
    if let Some(i) = rs.find("/crs/") {
        let parts: Vec<&str> = rs[i + 5..].split('/').filter(|p| !p.is_empty()).collect();
        if let (Some(auth), Some(code)) = (parts.first(), parts.last()) {
            return format!("{auth}:{code}");
        }
    }
    if let Some(rest) = rs.strip_prefix("urn:ogc:def:crs:") {
        let parts: Vec<&str> = rest.split(':').filter(|p| !p.is_empty()).collect();
        if let (Some(auth), Some(code)) = (parts.first(), parts.last()) {
            return format!("{auth}:{code}");
        }
    }
    rs.to_owned()
}

/// One surface: rings of vertex indices (outer first) and its semantic type.
struct Surface {
    rings: Vec<Vec<u32>>,
    semantic: Option<String>,
}

fn as_index_ring(v: &Json) -> Option<Vec<u32>> {
    v.as_array()?
        .iter()
        .map(|i| i.as_u64().map(|i| i as u32))
        .collect()
}

/// Surfaces of a geometry, depth by type; semantic types from `semantics.values`.
fn surfaces_of(g: &Json) -> Result<Vec<Surface>, &'static str> {
    let ty = g.get("type").and_then(Json::as_str).unwrap_or("");
    let boundaries = g.get("boundaries").ok_or("geometry without boundaries")?;
    let sem_types: Vec<Option<String>> = g
        .pointer("/semantics/surfaces")
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.get("type").and_then(Json::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let sem_values = g.pointer("/semantics/values");
    let sem = |v: Option<&Json>| -> Option<String> {
        let i = v?.as_u64()? as usize;
        sem_types.get(i).cloned().flatten()
    };
    let mut out = Vec::new();
    let surface = |s: &Json, semv: Option<&Json>| -> Result<Surface, &'static str> {
        let rings = s
            .as_array()
            .ok_or("malformed surface")?
            .iter()
            .map(|r| as_index_ring(r).ok_or("malformed ring"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Surface {
            rings,
            semantic: sem(semv),
        })
    };
    let arr = |v: &Json| v.as_array().cloned().unwrap_or_default();
    match ty {
        "MultiSurface" | "CompositeSurface" => {
            for (i, s) in arr(boundaries).iter().enumerate() {
                out.push(surface(s, sem_values.and_then(|v| v.get(i)))?);
            }
        }
        "Solid" => {
            for (si, shell) in arr(boundaries).iter().enumerate() {
                for (i, s) in arr(shell).iter().enumerate() {
                    out.push(surface(
                        s,
                        sem_values.and_then(|v| v.get(si)).and_then(|v| v.get(i)),
                    )?);
                }
            }
        }
        "MultiSolid" | "CompositeSolid" => {
            for (di, solid) in arr(boundaries).iter().enumerate() {
                for (si, shell) in arr(solid).iter().enumerate() {
                    for (i, s) in arr(shell).iter().enumerate() {
                        let v = sem_values
                            .and_then(|v| v.get(di))
                            .and_then(|v| v.get(si))
                            .and_then(|v| v.get(i));
                        out.push(surface(s, v)?);
                    }
                }
            }
        }
        _ => return Err("unsupported CityJSON geometry type (templates, points, lines)"),
    }
    Ok(out)
}

fn lod_of(g: &Json) -> f64 {
    match g.get("lod") {
        Some(Json::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Json::String(s)) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Newell normal of a ring, normalised; zero for degenerate rings.
fn normal(ring: &[u32], v: &[[f64; 3]]) -> [f64; 3] {
    let mut n = [0.0; 3];
    for i in 0..ring.len() {
        let a = v[ring[i] as usize];
        let b = v[ring[(i + 1) % ring.len()] as usize];
        n[0] += (a[1] - b[1]) * (a[2] + b[2]);
        n[1] += (a[2] - b[2]) * (a[0] + b[0]);
        n[2] += (a[0] - b[0]) * (a[1] + b[1]);
    }
    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    if len > 0.0 {
        [n[0] / len, n[1] / len, n[2] / len]
    } else {
        [0.0; 3]
    }
}

fn ring_2d(ring: &[u32], v: &[[f64; 3]]) -> Vec<Coord<f64>> {
    ring.iter()
        .map(|&i| Coord {
            x: v[i as usize][0],
            y: v[i as usize][1],
        })
        .collect()
}

/// The footprint of a building's surfaces, as raw polygon rings seen from above.
fn footprint(
    surfaces: &[Surface],
    v: &[[f64; 3]],
    zmin: f64,
) -> Result<Geometry<f64>, &'static str> {
    let ground: Vec<&Surface> = surfaces
        .iter()
        .filter(|s| s.semantic.as_deref() == Some("GroundSurface"))
        .collect();
    let chosen: Vec<&Surface> = if !ground.is_empty() {
        ground
    } else {
        let low_flat: Vec<&Surface> = surfaces
            .iter()
            .filter(|s| {
                let r = &s.rings[0];
                normal(r, v)[2].abs() > 0.99
                    && r.iter().map(|&i| v[i as usize][2]).sum::<f64>() / r.len().max(1) as f64
                        - zmin
                        < 0.1
            })
            .collect();
        if !low_flat.is_empty() {
            low_flat
        } else {
            surfaces
                .iter()
                .filter(|s| normal(&s.rings[0], v)[2].abs() > 0.1)
                .collect()
        }
    };
    let polys: Vec<Polygon<f64>> = chosen
        .iter()
        .filter(|s| s.rings.first().is_some_and(|r| r.len() >= 3))
        .filter_map(|s| {
            let rings: Vec<Vec<Coord<f64>>> = s.rings.iter().map(|r| ring_2d(r, v)).collect();
            match polygon_from_rings(&rings).ok()?.geometry {
                Geometry::Polygon(p) => Some(p),
                _ => None,
            }
        })
        .collect();
    match polys.len() {
        0 => Err("no footprint (no ground or roof surfaces)"),
        1 => Ok(Geometry::Polygon(
            polys.into_iter().next().ok_or("no footprint")?,
        )),
        _ => {
            let u = geo::unary_union(&polys);
            if u.0.len() == 1 {
                Ok(Geometry::Polygon(
                    u.0.into_iter().next().ok_or("no footprint")?,
                ))
            } else {
                Ok(Geometry::MultiPolygon(u))
            }
        }
    }
}

/// Imports the buildings of a CityJSON file as one layer.
///
/// # Errors
/// [`ImportError::Corrupt`] for malformed JSON or a file that is not CityJSON, [`ImportError::MissingCrs`] when
/// it names no CRS and `--src-crs` is not given.
pub fn import(
    path: &Path,
    opts: &ImportOptions,
    progress: &ProgressBar,
) -> Result<Layer, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.to_owned(),
        source,
    })?;
    import_bytes(&bytes, path, opts, progress)
}

fn import_bytes(
    bytes: &[u8],
    path: &Path,
    opts: &ImportOptions,
    progress: &ProgressBar,
) -> Result<Layer, ImportError> {
    let corrupt = |detail: String| ImportError::Corrupt {
        path: path.to_owned(),
        format: "CityJSON".into(),
        detail,
    };
    let doc: Json = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    if doc.get("type").and_then(Json::as_str) != Some("CityJSON") {
        return Err(corrupt("no \"type\": \"CityJSON\"".into()));
    }
    let version = doc
        .get("version")
        .and_then(Json::as_str)
        .ok_or_else(|| corrupt("no \"version\" member (every CityJSON file has one)".into()))?
        .to_owned();
    let major_minor: Vec<&str> = version.splitn(3, '.').take(2).collect();
    if !matches!(major_minor.as_slice(), ["1", "0"] | ["1", "1"] | ["2", "0"]) {
        return Err(ImportError::Unsupported {
            path: path.to_owned(),
            detail: format!(
                "CityJSON version \"{version}\" is not one citytwin reads (1.0, 1.1 and 2.0)"
            ),
        });
    }
    let crs = match &opts.src_crs {
        Some(c) => c.clone(),
        None => doc
            .pointer("/metadata/referenceSystem")
            .and_then(Json::as_str)
            .map(crs_from_reference_system)
            .ok_or_else(|| ImportError::MissingCrs {
                path: path.to_owned(),
                what: "the CityJSON metadata (no referenceSystem)".into(),
            })?,
    };
    let (scale, translate) = match doc.get("transform") {
        Some(t) => {
            let three = |k: &str| -> Option<[f64; 3]> {
                let a = t.get(k)?.as_array()?;
                Some([
                    a.first()?.as_f64()?,
                    a.get(1)?.as_f64()?,
                    a.get(2)?.as_f64()?,
                ])
            };
            (
                three("scale").ok_or_else(|| corrupt("malformed transform.scale".into()))?,
                three("translate")
                    .ok_or_else(|| corrupt("malformed transform.translate".into()))?,
            )
        }
        None => ([1.0; 3], [0.0; 3]),
    };
    let vertices: Vec<[f64; 3]> = doc
        .get("vertices")
        .and_then(Json::as_array)
        .ok_or_else(|| corrupt("no vertices array".into()))?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let c = |k: usize| v.get(k).and_then(Json::as_f64);
            match (c(0), c(1), c(2)) {
                (Some(x), Some(y), Some(z)) => Ok([
                    x * scale[0] + translate[0],
                    y * scale[1] + translate[1],
                    z * scale[2] + translate[2],
                ]),
                _ => Err(corrupt(format!("vertex {i} is not three numbers"))),
            }
        })
        .collect::<Result<_, _>>()?;
    let objects = doc
        .get("CityObjects")
        .and_then(Json::as_object)
        .ok_or_else(|| corrupt("no CityObjects".into()))?;

    let name = opts
        .layer_name
        .clone()
        .unwrap_or_else(|| default_layer_name(path));
    let source = LayerSource {
        path: path.display().to_string(),
        format: format!("CityJSON {version}"),
        crs,
    };
    let mut b = LayerBuilder::new(
        name,
        opts.kind.unwrap_or(LayerKind::Buildings),
        source,
        None,
        opts,
    );
    progress.set_length(objects.len() as u64);
    progress.set_message("CityJSON objects");
    // serde_json keeps object keys sorted: a deterministic order.
    for (id, obj) in objects {
        progress.inc(1);
        b.count_source_object();
        let ty = obj.get("type").and_then(Json::as_str).unwrap_or("?");
        if ty != "Building" && ty != "BuildingPart" {
            b.skip(&format!("not a building: {ty}"));
            continue;
        }
        let geoms = obj
            .get("geometry")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        let Some(best) = geoms.iter().max_by(|a, c| lod_of(a).total_cmp(&lod_of(c))) else {
            let has_parts = obj
                .get("children")
                .and_then(Json::as_array)
                .is_some_and(|c| !c.is_empty());
            b.skip(if has_parts {
                "no geometry of its own (its parts are imported)"
            } else {
                "no geometry"
            });
            continue;
        };
        let surfaces = match surfaces_of(best) {
            Ok(s) if !s.is_empty() => s,
            Ok(_) => {
                b.skip("empty geometry");
                continue;
            }
            Err(reason) => {
                b.skip(reason);
                continue;
            }
        };
        if surfaces
            .iter()
            .flat_map(|s| s.rings.iter().flatten())
            .any(|&i| i as usize >= vertices.len())
        {
            return Err(corrupt(format!(
                "city object {id} references a vertex beyond the {} given",
                vertices.len()
            )));
        }
        // Local vertex table for this building.
        let mut remap: BTreeMap<u32, u32> = BTreeMap::new();
        for i in surfaces.iter().flat_map(|s| s.rings.iter().flatten()) {
            let n = remap.len() as u32;
            remap.entry(*i).or_insert(n);
        }
        let mut local = vec![[0.0; 3]; remap.len()];
        for (&g, &l) in &remap {
            local[l as usize] = vertices[g as usize];
        }
        let zmin = local.iter().map(|v| v[2]).fold(f64::INFINITY, f64::min);
        let zmax = local.iter().map(|v| v[2]).fold(f64::NEG_INFINITY, f64::max);
        let polygons: Vec<Vec<Vec<u32>>> = surfaces
            .iter()
            .map(|s| {
                s.rings
                    .iter()
                    .map(|r| r.iter().map(|i| remap[i]).collect())
                    .collect()
            })
            .collect();
        let local_surfaces: Vec<Surface> = polygons
            .iter()
            .zip(&surfaces)
            .map(|(rings, s)| Surface {
                rings: rings.clone(),
                semantic: s.semantic.clone(),
            })
            .collect();
        let fp = match footprint(&local_surfaces, &local, zmin) {
            Ok(g) => g,
            Err(reason) => {
                b.skip(reason);
                continue;
            }
        };
        let cleaned = match citytwin_engine::geometry::clean_geometry(fp) {
            Ok(c) => c,
            Err(reason) => {
                b.skip(reason.as_str());
                continue;
            }
        };
        let lod = best
            .get("lod")
            .map(|l| l.as_str().map_or_else(|| l.to_string(), str::to_owned))
            .unwrap_or_default();
        let mut attrs: Vec<(String, Value)> = obj
            .get("attributes")
            .and_then(Json::as_object)
            .map(|a| {
                a.iter()
                    .map(|(k, v)| (k.clone(), json_to_value(v)))
                    .collect()
            })
            .unwrap_or_default();
        attrs.push(("cityjson_id".into(), Value::Text(id.clone())));
        attrs.push(("cityobject_type".into(), Value::Text(ty.into())));
        attrs.push(("lod".into(), Value::Text(lod.clone())));
        if let Some(p) = obj
            .get("parents")
            .and_then(Json::as_array)
            .and_then(|p| p.first())
            .and_then(Json::as_str)
        {
            attrs.push(("parent".into(), Value::Text(p.into())));
        }
        let mut bld = Building::with_height(zmax - zmin, HeightSource::Geometry);
        bld.base_elevation = zmin;
        bld.usage = ["function", "usage", "class", "roofType"]
            .iter()
            .find_map(|k| obj.pointer(&format!("/attributes/{k}")))
            .map(|v| json_to_value(v).to_string().into());
        bld.surfaces = Some(Box::new(Surfaces {
            lod,
            vertices: local,
            polygons,
        }));
        b.add_with_building(cleaned, attrs, Some(bld));
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_systems() {
        assert_eq!(
            crs_from_reference_system("https://www.opengis.net/def/crs/EPSG/0/7415"),
            "EPSG:7415"
        );
        assert_eq!(
            crs_from_reference_system("urn:ogc:def:crs:EPSG::2056"),
            "EPSG:2056"
        );
        assert_eq!(crs_from_reference_system("EPSG:28992"), "EPSG:28992");
    }

    const CUBE: &str = r#"{"type":"CityJSON","version":"2.0","transform":{"scale":[0.01,0.01,0.01],"translate":[1000,2000,5]},
      "metadata":{"referenceSystem":"https://www.opengis.net/def/crs/EPSG/0/28992"},
      "CityObjects":{
        "b1":{"type":"Building","attributes":{"name":"cube"},"geometry":[{"type":"Solid","lod":"1","boundaries":[[
          [[0,3,2,1]],[[4,5,6,7]],[[0,1,5,4]],[[1,2,6,5]],[[2,3,7,6]],[[3,0,4,7]]]]}]},
        "r1":{"type":"Road","geometry":[]}
      },
      "vertices":[[0,0,0],[1000,0,0],[1000,1000,0],[0,1000,0],[0,0,1200],[1000,0,1200],[1000,1000,1200],[0,1000,1200]]}"#;

    #[test]
    fn solid_cube() {
        let l = import_bytes(
            CUBE.as_bytes(),
            Path::new("cube.city.json"),
            &ImportOptions::default(),
            &ProgressBar::hidden(),
        )
        .expect("import");
        assert_eq!(l.features.len(), 1);
        assert_eq!(l.report.skipped.get("not a building: Road"), Some(&1));
        let b = l.features[0].building.as_ref().expect("building");
        assert_eq!(b.height_source, HeightSource::Geometry);
        assert!((b.height - 12.0).abs() < 1e-9);
        assert!((b.base_elevation - 5.0).abs() < 1e-9);
        let s = b.surfaces.as_ref().expect("surfaces");
        assert_eq!((s.vertices.len(), s.polygons.len()), (8, 6));
        use geo::Area;
        assert!(
            (l.features[0].geometry.unsigned_area() - 100.0).abs() < 1e-6,
            "10 m × 10 m footprint"
        );
    }

    #[test]
    fn errors() {
        let e = import_bytes(
            &CUBE.as_bytes()[..200],
            Path::new("cut.json"),
            &ImportOptions::default(),
            &ProgressBar::hidden(),
        );
        assert!(matches!(e, Err(ImportError::Corrupt { .. })));
        let no_crs = CUBE.replace(
            "\"metadata\":{\"referenceSystem\":\"https://www.opengis.net/def/crs/EPSG/0/28992\"},",
            "",
        );
        let e = import_bytes(
            no_crs.as_bytes(),
            Path::new("x.json"),
            &ImportOptions::default(),
            &ProgressBar::hidden(),
        );
        assert!(matches!(e, Err(ImportError::MissingCrs { .. })));
        // Regression: versions "9.9", "0.1" or none imported without complaint.
        for (from, to) in [
            ("\"version\":\"2.0\"", "\"version\":\"9.9\""),
            ("\"version\":\"2.0\"", "\"version\":\"0.1\""),
            ("\"version\":\"2.0\",", ""),
        ] {
            let doc = CUBE.replace(from, to);
            let e = import_bytes(
                doc.as_bytes(),
                Path::new("x.json"),
                &ImportOptions::default(),
                &ProgressBar::hidden(),
            )
            .expect_err(to);
            assert!(e.to_string().contains("version"), "{e}");
        }
        let v11 = CUBE.replace("\"version\":\"2.0\"", "\"version\":\"1.1\"");
        assert!(import_bytes(
            v11.as_bytes(),
            Path::new("x.json"),
            &ImportOptions::default(),
            &ProgressBar::hidden(),
        )
        .is_ok());
    }
}
