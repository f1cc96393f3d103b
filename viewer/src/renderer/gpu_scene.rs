//! A meshed scene on the GPU: one vertex and index buffer per tile, the colour table, the uniforms.

use super::pipeline::{FrameUniform, MeshPipeline, TileUniform, COLOR_TABLE_WIDTH};
use crate::camera::OrbitCamera;
use crate::mesh::{SceneMesh, TileMesh};
use glam::{DVec3, Vec4};
use wgpu::util::DeviceExt;

/// Stride of tile uniforms in their buffer (the dynamic-offset alignment every device accepts).
const TILE_STRIDE: u64 = 256;

/// One tile's buffers.
#[derive(Debug)]
pub struct GpuTile {
    vertices: wgpu::Buffer,
    indices: wgpu::Buffer,
    index_count: u32,
    origin: [f64; 3],
    bounds: [f64; 6],
    /// Index into `scene.layers`, `None` for the ground.
    pub layer: Option<usize>,
}

/// A scene's GPU resources.
#[derive(Debug)]
pub struct GpuScene {
    tiles: Vec<GpuTile>,
    color_table: wgpu::Texture,
    frame_buffer: wgpu::Buffer,
    frame_group: wgpu::BindGroup,
    tile_buffer: wgpu::Buffer,
    tile_group: wgpu::BindGroup,
    slot_count: usize,
}

fn upload(device: &wgpu::Device, t: &TileMesh, layer: Option<usize>) -> GpuTile {
    GpuTile {
        vertices: device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("tile vertices"),
            contents: bytemuck::cast_slice(&t.vertices),
            usage: wgpu::BufferUsages::VERTEX,
        }),
        indices: device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("tile indices"),
            contents: bytemuck::cast_slice(&t.indices),
            usage: wgpu::BufferUsages::INDEX,
        }),
        index_count: t.indices.len() as u32,
        origin: t.origin,
        bounds: t.bounds,
        layer,
    }
}

/// Whether an axis-aligned box (camera-relative) is at least partly inside the side planes of the frustum.
fn in_frustum(vp: &glam::Mat4, lo: DVec3, hi: DVec3) -> bool {
    let r = [vp.row(0), vp.row(1), vp.row(3)];
    let planes = [r[2] + r[0], r[2] - r[0], r[2] + r[1], r[2] - r[1]];
    planes.iter().all(|p: &Vec4| {
        let x = if p.x >= 0.0 { hi.x } else { lo.x };
        let y = if p.y >= 0.0 { hi.y } else { lo.y };
        let z = if p.z >= 0.0 { hi.z } else { lo.z };
        p.x as f64 * x + p.y as f64 * y + p.z as f64 * z + p.w as f64 >= 0.0
    })
}

/// Lighting of a frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lighting {
    /// Unit vector towards the sun.
    pub sun_dir: [f32; 3],
    /// Clear and haze colour (linear RGB).
    pub sky: [f32; 3],
}

impl Default for Lighting {
    fn default() -> Self {
        // Afternoon sun from the south-west, 40° high.
        let (az, el) = (225f32.to_radians(), 40f32.to_radians());
        Lighting {
            sun_dir: [az.sin() * el.cos(), az.cos() * el.cos(), el.sin()],
            sky: [0.62, 0.72, 0.85],
        }
    }
}

impl GpuScene {
    /// Uploads `mesh` and its colour table.
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        pipe: &MeshPipeline,
        mesh: &SceneMesh,
        colors: &[[u8; 4]],
    ) -> Self {
        let mut tiles = vec![upload(device, &mesh.ground, None)];
        for lm in &mesh.layers {
            tiles.extend(lm.tiles.iter().map(|t| upload(device, t, Some(lm.layer))));
        }
        let slot_count = mesh.slot_count();
        let rows = (slot_count as u32).div_ceil(COLOR_TABLE_WIDTH).max(1);
        let color_table = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("colour table"),
            size: wgpu::Extent3d {
                width: COLOR_TABLE_WIDTH,
                height: rows,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8UnormSrgb,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let frame_buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("frame uniform"),
            size: std::mem::size_of::<FrameUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let view = color_table.create_view(&Default::default());
        let frame_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("frame"),
            layout: &pipe.frame_layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: frame_buffer.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&view),
                },
            ],
        });
        let tile_buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("tile uniforms"),
            size: TILE_STRIDE * tiles.len() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let tile_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("tile"),
            layout: &pipe.tile_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &tile_buffer,
                    offset: 0,
                    size: wgpu::BufferSize::new(std::mem::size_of::<TileUniform>() as u64),
                }),
            }],
        });
        let s = GpuScene {
            tiles,
            color_table,
            frame_buffer,
            frame_group,
            tile_buffer,
            tile_group,
            slot_count,
        };
        s.set_colors(queue, colors);
        s
    }

    /// Rewrites the colour table (one RGBA8 sRGB value per slot); geometry is untouched.
    pub fn set_colors(&self, queue: &wgpu::Queue, colors: &[[u8; 4]]) {
        let rows = (self.slot_count as u32).div_ceil(COLOR_TABLE_WIDTH).max(1);
        let mut table = vec![[0u8; 4]; (COLOR_TABLE_WIDTH * rows) as usize];
        for (t, c) in table.iter_mut().zip(colors) {
            *t = *c;
        }
        queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &self.color_table,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            bytemuck::cast_slice(&table),
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(COLOR_TABLE_WIDTH * 4),
                rows_per_image: Some(rows),
            },
            wgpu::Extent3d {
                width: COLOR_TABLE_WIDTH,
                height: rows,
                depth_or_array_layers: 1,
            },
        );
    }

    /// Number of tiles (the ground included).
    pub fn tile_count(&self) -> usize {
        self.tiles.len()
    }

    /// Writes this frame's uniforms and returns the tiles to draw: visible layers, inside the view frustum.
    pub fn prepare(
        &self,
        queue: &wgpu::Queue,
        camera: &OrbitCamera,
        aspect: f64,
        light: &Lighting,
        layer_visible: &dyn Fn(usize) -> bool,
        highlight_slot: u32,
    ) -> Vec<usize> {
        let vp = camera.view_proj_relative(aspect);
        let eye = camera.eye();
        let [sx, sy, sz] = light.sun_dir;
        let [r, g, b] = light.sky;
        let frame = FrameUniform {
            view_proj: vp.to_cols_array_2d(),
            sun_dir: [sx, sy, sz, 0.0],
            sun_color: [0.80, 0.77, 0.70, (0.12 / camera.distance.max(50.0)) as f32],
            sky_color: [r, g, b, 1.0],
            ground_color: [0.36, 0.34, 0.30, 1.0],
            highlight: [highlight_slot, 0, 0, 0],
        };
        queue.write_buffer(&self.frame_buffer, 0, bytemuck::bytes_of(&frame));
        let mut offsets = vec![0u8; self.tiles.len() * TILE_STRIDE as usize];
        let mut visible = Vec::new();
        for (i, t) in self.tiles.iter().enumerate() {
            let o = DVec3::from(t.origin) - eye;
            let u = TileUniform {
                offset: [o.x as f32, o.y as f32, o.z as f32, 0.0],
            };
            let at = i * TILE_STRIDE as usize;
            offsets[at..at + std::mem::size_of::<TileUniform>()]
                .copy_from_slice(bytemuck::bytes_of(&u));
            if t.layer.is_some_and(|l| !layer_visible(l)) {
                continue;
            }
            let lo = DVec3::new(t.bounds[0], t.bounds[1], t.bounds[2]) - eye;
            let hi = DVec3::new(t.bounds[3], t.bounds[4], t.bounds[5]) - eye;
            if in_frustum(&vp, lo, hi) {
                visible.push(i);
            }
        }
        queue.write_buffer(&self.tile_buffer, 0, &offsets);
        visible
    }

    /// Records the draws of `visible` tiles.
    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>, pipe: &MeshPipeline, visible: &[usize]) {
        pass.set_pipeline(&pipe.pipeline);
        pass.set_bind_group(0, &self.frame_group, &[]);
        for &i in visible {
            let t = &self.tiles[i];
            pass.set_bind_group(1, &self.tile_group, &[(i as u64 * TILE_STRIDE) as u32]);
            pass.set_vertex_buffer(0, t.vertices.slice(..));
            pass.set_index_buffer(t.indices.slice(..), wgpu::IndexFormat::Uint32);
            pass.draw_indexed(0..t.index_count, 0, 0..1);
        }
    }
}
