//! Rendering on the real wgpu stack (lavapipe on CI): a colour-by change recolours exactly the buildings' pixels
//! and a layer toggle removes them. These tests need a graphics adapter and fail (not skip) without one.
#![allow(clippy::unwrap_used)]

use citytwin_engine::generate;
use citytwin_viewer::{ColorBy, HeadlessRenderer, OrbitCamera};

const SIZE: (u32, u32) = (320, 200);

fn differs(a: &image::RgbaImage, b: &image::RgbaImage) -> Vec<bool> {
    a.pixels()
        .zip(b.pixels())
        .map(|(p, q)| p.0.iter().zip(q.0.iter()).any(|(x, y)| x.abs_diff(*y) > 8))
        .collect()
}

#[test]
fn colour_by_and_layer_toggle_change_the_right_pixels() {
    let scene = generate::city(400, 5);
    let r = HeadlessRenderer::new().expect("a graphics adapter (install mesa-vulkan-drivers)");
    let mut p = r.prepare(&scene);
    let cam: OrbitCamera = r.fit_camera(&p, SIZE);
    // Vivid categorical colours, so every building pixel stands out from the ground.
    r.set_color_by(&scene, &mut p, &ColorBy::Use).unwrap();
    let by_layer = r.frame(&p, &cam, SIZE).unwrap();

    r.set_color_by(&scene, &mut p, &ColorBy::Height).unwrap();
    let by_height = r.frame(&p, &cam, SIZE).unwrap();
    assert!(p
        .legend
        .as_ref()
        .is_some_and(|l| l.title.contains("height")));

    r.set_color_by(&scene, &mut p, &ColorBy::Use).unwrap();
    assert_eq!(
        r.frame(&p, &cam, SIZE).unwrap(),
        by_layer,
        "the same colour-by renders the same image"
    );

    r.set_layers(&scene, &mut p, Some(&["roads".to_string()]))
        .unwrap();
    let roads_only = r.frame(&p, &cam, SIZE).unwrap();

    // Where the buildings are: what hiding them changes.
    let building_px = differs(&by_layer, &roads_only);
    let recoloured = differs(&by_layer, &by_height);
    let n_build = building_px.iter().filter(|b| **b).count();
    let n_recol = recoloured.iter().filter(|b| **b).count();
    assert!(
        n_build > 2000,
        "buildings cover a good part of the frame: {n_build}"
    );
    let outside = recoloured
        .iter()
        .zip(&building_px)
        .filter(|(r, b)| **r && !**b)
        .count();
    assert!(
        outside * 100 <= n_recol,
        "recolouring touched {outside} pixels outside the buildings"
    );
    assert!(
        n_recol * 10 >= n_build * 8,
        "recolouring reached most building pixels: {n_recol} of {n_build}"
    );

    assert!(r
        .set_layers(&scene, &mut p, Some(&["nope".to_string()]))
        .is_err());
    assert!(r
        .set_color_by(
            &scene,
            &mut p,
            &ColorBy::Attribute("no_such_attribute".into())
        )
        .is_err());
}

#[test]
fn camera_relative_rendering_is_stable_far_from_the_origin() {
    // The same city, shifted 3,000 km east in its frame: f32 world coordinates would jitter by metres there.
    let mut near = generate::city(50, 1);
    let mut far = generate::city(50, 1);
    near.frame.origin = [0.0, 0.0];
    far.frame.origin = [0.0, 0.0];
    for l in &mut far.layers {
        for f in &mut l.features {
            use geo::Translate;
            f.geometry.translate_mut(3_000_000.0, 0.0);
        }
    }
    let r = HeadlessRenderer::new().expect("a graphics adapter");
    let pn = r.prepare(&near);
    let pf = r.prepare(&far);
    let cn = r.fit_camera(&pn, SIZE);
    let mut cf = cn;
    cf.target[0] += 3_000_000.0;
    let a = r.frame(&pn, &cn, SIZE).unwrap();
    let b = r.frame(&pf, &cf, SIZE).unwrap();
    let d = differs(&a, &b).iter().filter(|x| **x).count();
    assert!(d * 1000 <= (SIZE.0 * SIZE.1) as usize, "{d} pixels differ");
}
