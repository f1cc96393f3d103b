//! Prints viewer frame times for generated cities: `cargo run --release -p citytwin-benches --bin frame-times --
//! [N...]` (default 10000 100000 1000000). Each city (seed 42) is meshed and uploaded once, then rendered at
//! 1920×1080 from the fitted overview camera and from a street-level camera, waiting for the GPU each frame.
//! The adapter is whatever wgpu finds (Mesa lavapipe on a machine without a GPU; `WGPU_BACKEND` chooses).
#![allow(clippy::unwrap_used)]

use citytwin_engine::generate;
use citytwin_viewer::passes::Target;
use citytwin_viewer::{FrameContext, HeadlessRenderer, OrbitCamera};
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZE: (u32, u32) = (1920, 1080);
const FRAMES: usize = 10;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000, 1_000_000]
    } else {
        sizes
    };
    let r = HeadlessRenderer::new().unwrap();
    println!(
        "adapter: {}  ({}×{}, {} samples)",
        r.ctx.describe(),
        SIZE.0,
        SIZE.1,
        r.pipe.samples
    );
    println!(
        "{:>10} {:>12} {:>10} {:>8} {:>14} {:>14}",
        "buildings", "triangles", "mesh+up s", "tiles", "overview ms", "street ms"
    );
    for n in sizes {
        let scene = generate::city(n, 42);
        let t0 = Instant::now();
        let prepared = r.prepare(&scene);
        r.ctx
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .unwrap();
        let prep = t0.elapsed().as_secs_f64();
        let tris: usize = prepared
            .mesh
            .layers
            .iter()
            .flat_map(|l| &l.tiles)
            .map(|t| t.indices.len() / 3)
            .sum();
        let target = Target::new(&r.ctx.device, &r.pipe, SIZE, false);
        let overview = prepared.fit_camera(SIZE);
        let mut street: OrbitCamera = overview;
        street.distance = 400.0;
        street.pitch_deg = 20.0;
        let gpu = FrameContext {
            device: &r.ctx.device,
            queue: &r.ctx.queue,
            pipe: &r.pipe,
            light: &r.light,
        };
        let time = |cam: &OrbitCamera| {
            prepared.render(&gpu, cam, &target, 0);
            r.ctx
                .device
                .poll(wgpu::PollType::wait_indefinitely())
                .unwrap();
            let t = Instant::now();
            for _ in 0..FRAMES {
                prepared.render(&gpu, cam, &target, 0);
                r.ctx
                    .device
                    .poll(wgpu::PollType::wait_indefinitely())
                    .unwrap();
            }
            t.elapsed().as_secs_f64() * 1000.0 / FRAMES as f64
        };
        let (o, s) = (time(&overview), time(&street));
        println!(
            "{:>10} {:>12} {:>10.2} {:>8} {:>14.1} {:>14.1}",
            n,
            tris,
            prep,
            prepared.gpu.tile_count(),
            o,
            s
        );
    }
}
