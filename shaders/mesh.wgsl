// citytwin mesh shader: every opaque surface (buildings, terrain, areas, ribbons, ground).
//
// Positions arrive relative to their tile's origin; `tile.offset` (tile origin minus eye, computed in f64 on the
// CPU) makes them camera-relative, so f32 precision is spent near the viewer and nothing jitters at city scale.
// Colours come from a table texture indexed by the vertex's feature slot: changing the colour-by rewrites the
// table, never the geometry. Lighting: a sun (Lambert) plus a sky/ground hemisphere, and a light aerial haze.

struct Frame {
    view_proj: mat4x4<f32>,
    // Unit vector towards the sun.
    sun_dir: vec4<f32>,
    // Sun colour (rgb) and haze density per metre (w).
    sun_color: vec4<f32>,
    sky_color: vec4<f32>,
    ground_color: vec4<f32>,
    // x: highlighted slot (0: none).
    highlight: vec4<u32>,
};

struct Tile {
    // Tile origin minus eye, metres.
    offset: vec4<f32>,
};

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var colors: texture_2d<f32>;
@group(1) @binding(0) var<uniform> tile: Tile;

// Width of the colour table texture, in slots.
const TABLE_WIDTH: u32 = 2048u;

struct VsOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) normal: vec3<f32>,
    @location(1) color: vec4<f32>,
    @location(2) rel: vec3<f32>,
};

@vertex
fn vs_main(@location(0) pos: vec3<f32>, @location(1) normal: vec4<f32>, @location(2) slot: u32) -> VsOut {
    let rel = pos + tile.offset.xyz;
    var out: VsOut;
    out.clip = frame.view_proj * vec4<f32>(rel, 1.0);
    out.normal = normal.xyz;
    var color = textureLoad(colors, vec2<u32>(slot % TABLE_WIDTH, slot / TABLE_WIDTH), 0);
    if (slot != 0u && slot == frame.highlight.x) {
        color = vec4<f32>(1.0, 0.25, 0.6, 1.0);
    }
    out.color = color;
    out.rel = rel;
    return out;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    let n = normalize(in.normal);
    let sun = max(dot(n, frame.sun_dir.xyz), 0.0);
    let hemi = mix(frame.ground_color.rgb, frame.sky_color.rgb, n.z * 0.5 + 0.5) * 0.55;
    let lit = in.color.rgb * (hemi + frame.sun_color.rgb * sun);
    let haze = clamp(1.0 - exp(-length(in.rel) * frame.sun_color.w), 0.0, 0.5);
    return vec4<f32>(mix(lit, frame.sky_color.rgb, haze), in.color.a);
}
