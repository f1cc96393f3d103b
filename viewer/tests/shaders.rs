//! Every WGSL shader in `shaders/` parses and validates with naga (the same front end wgpu uses).
#![allow(clippy::unwrap_used)]

#[test]
fn all_shaders_validate() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shaders");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("wgsl") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        let module = naga::front::wgsl::parse_str(&src)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&src)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&src)));
        n += 1;
    }
    assert!(n >= 1, "no shaders found in {}", dir.display());
}

#[test]
fn the_colour_table_width_matches_the_shader() {
    let src = citytwin_viewer::renderer::MESH_WGSL;
    let w = citytwin_viewer::renderer::COLOR_TABLE_WIDTH;
    assert!(src.contains(&format!("const TABLE_WIDTH: u32 = {w}u;")));
}
