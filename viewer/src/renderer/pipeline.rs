//! The mesh pipeline (created once per device and target format) and its uniform layouts.

use crate::mesh::Vertex;
use bytemuck::{Pod, Zeroable};

/// Depth buffer format (reversed Z: 1 near, 0 at infinity).
pub const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;
/// Width of the colour table texture; must match `TABLE_WIDTH` in `shaders/mesh.wgsl`.
pub const COLOR_TABLE_WIDTH: u32 = 2048;
/// WGSL source of the mesh shader.
pub const MESH_WGSL: &str = include_str!("../../../shaders/mesh.wgsl");

/// Per-frame uniforms; layout matches `Frame` in `shaders/mesh.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct FrameUniform {
    /// Camera-relative view-projection.
    pub view_proj: [[f32; 4]; 4],
    /// Unit vector towards the sun.
    pub sun_dir: [f32; 4],
    /// Sun colour; w: haze density per metre.
    pub sun_color: [f32; 4],
    /// Sky colour (hemisphere top, haze, clear colour).
    pub sky_color: [f32; 4],
    /// Ground bounce colour (hemisphere bottom).
    pub ground_color: [f32; 4],
    /// x: highlighted slot (0: none).
    pub highlight: [u32; 4],
}
const _: () = assert!(std::mem::size_of::<FrameUniform>() == 144);

/// Per-tile uniform; layout matches `Tile` in the shader. Stored at a 256-byte stride.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct TileUniform {
    /// Tile origin minus eye.
    pub offset: [f32; 4],
}

/// The long-lived mesh pipeline.
#[derive(Debug)]
pub struct MeshPipeline {
    /// The pipeline.
    pub pipeline: wgpu::RenderPipeline,
    /// Group 0: frame uniform + colour table.
    pub frame_layout: wgpu::BindGroupLayout,
    /// Group 1: tile uniform (dynamic offset).
    pub tile_layout: wgpu::BindGroupLayout,
    /// MSAA sample count it renders with.
    pub samples: u32,
    /// Colour target format.
    pub format: wgpu::TextureFormat,
}

impl MeshPipeline {
    /// Creates the pipeline for `format` with `samples` MSAA samples.
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat, samples: u32) -> Self {
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("mesh.wgsl"),
            source: wgpu::ShaderSource::Wgsl(MESH_WGSL.into()),
        });
        let frame_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("frame"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: wgpu::BufferSize::new(
                            std::mem::size_of::<FrameUniform>() as u64,
                        ),
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::VERTEX,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: false },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
            ],
        });
        let tile_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("tile"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: true,
                    min_binding_size: wgpu::BufferSize::new(
                        std::mem::size_of::<TileUniform>() as u64
                    ),
                },
                count: None,
            }],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("mesh"),
            bind_group_layouts: &[Some(&frame_layout), Some(&tile_layout)],
            immediate_size: 0,
        });
        let attributes = wgpu::vertex_attr_array![0 => Float32x3, 1 => Snorm8x4, 2 => Uint32];
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("mesh"),
            layout: Some(&layout),
            vertex: wgpu::VertexState {
                module: &shader,
                entry_point: Some("vs_main"),
                compilation_options: Default::default(),
                buffers: &[Some(wgpu::VertexBufferLayout {
                    array_stride: std::mem::size_of::<Vertex>() as u64,
                    step_mode: wgpu::VertexStepMode::Vertex,
                    attributes: &attributes,
                })],
            },
            primitive: wgpu::PrimitiveState {
                topology: wgpu::PrimitiveTopology::TriangleList,
                // Footprints come in both windings and surfaces from CityJSON in their own: draw both sides.
                cull_mode: None,
                ..Default::default()
            },
            depth_stencil: Some(wgpu::DepthStencilState {
                format: DEPTH_FORMAT,
                depth_write_enabled: Some(true),
                depth_compare: Some(wgpu::CompareFunction::Greater),
                stencil: Default::default(),
                bias: Default::default(),
            }),
            multisample: wgpu::MultisampleState {
                count: samples,
                ..Default::default()
            },
            fragment: Some(wgpu::FragmentState {
                module: &shader,
                entry_point: Some("fs_main"),
                compilation_options: Default::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format,
                    blend: Some(wgpu::BlendState::ALPHA_BLENDING),
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            multiview_mask: None,
            cache: None,
        });
        MeshPipeline {
            pipeline,
            frame_layout,
            tile_layout,
            samples,
            format,
        }
    }
}
