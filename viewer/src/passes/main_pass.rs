//! The main pass: clear to sky, draw the visible tiles with depth, resolve MSAA.

use crate::renderer::{GpuScene, MeshPipeline, DEPTH_FORMAT};

/// An offscreen colour target with its MSAA and depth attachments.
#[derive(Debug)]
pub struct Target {
    /// Resolved colour (single-sampled), readable.
    pub color: wgpu::Texture,
    msaa: Option<wgpu::TextureView>,
    depth: wgpu::TextureView,
    /// Size in pixels.
    pub size: (u32, u32),
}

impl Target {
    /// A target of `size` for `pipe`'s format and sample count. With `linear_view`, the resolved colour can also
    /// be viewed without its sRGB suffix (what egui samples in the window); it needs the adapter's
    /// `DownlevelFlags::VIEW_FORMATS`, which GL lacks.
    pub fn new(
        device: &wgpu::Device,
        pipe: &MeshPipeline,
        size: (u32, u32),
        linear_view: bool,
    ) -> Self {
        let extent = wgpu::Extent3d {
            width: size.0,
            height: size.1,
            depth_or_array_layers: 1,
        };
        let linear_formats = [pipe.format.remove_srgb_suffix()];
        let tex = |label, samples, format: wgpu::TextureFormat, usage| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: extent,
                mip_level_count: 1,
                sample_count: samples,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage,
                view_formats: if linear_view && format == pipe.format && samples == 1 {
                    &linear_formats
                } else {
                    &[]
                },
            })
        };
        let color = tex(
            "colour",
            1,
            pipe.format,
            wgpu::TextureUsages::RENDER_ATTACHMENT
                | wgpu::TextureUsages::COPY_SRC
                | wgpu::TextureUsages::TEXTURE_BINDING,
        );
        let msaa = (pipe.samples > 1).then(|| {
            tex(
                "colour msaa",
                pipe.samples,
                pipe.format,
                wgpu::TextureUsages::RENDER_ATTACHMENT,
            )
            .create_view(&Default::default())
        });
        let depth = tex(
            "depth",
            pipe.samples,
            DEPTH_FORMAT,
            wgpu::TextureUsages::RENDER_ATTACHMENT,
        )
        .create_view(&Default::default());
        Target {
            color,
            msaa,
            depth,
            size,
        }
    }
}

/// Records the main pass into `encoder`: clear to `sky`, draw `visible` tiles.
pub fn main_pass(
    encoder: &mut wgpu::CommandEncoder,
    target: &Target,
    pipe: &MeshPipeline,
    scene: &GpuScene,
    visible: &[usize],
    sky: [f32; 3],
) {
    let resolved = target.color.create_view(&Default::default());
    let (view, resolve) = match &target.msaa {
        Some(m) => (m, Some(&resolved)),
        None => (&resolved, None),
    };
    // The clear colour is linear; the target is sRGB.
    let clear = wgpu::Color {
        r: sky[0] as f64,
        g: sky[1] as f64,
        b: sky[2] as f64,
        a: 1.0,
    };
    let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some("main"),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view,
            depth_slice: None,
            resolve_target: resolve,
            ops: wgpu::Operations {
                load: wgpu::LoadOp::Clear(clear),
                store: wgpu::StoreOp::Store,
            },
        })],
        depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
            view: &target.depth,
            // Reversed Z: 0 is infinitely far.
            depth_ops: Some(wgpu::Operations {
                load: wgpu::LoadOp::Clear(0.0),
                store: wgpu::StoreOp::Discard,
            }),
            stencil_ops: None,
        }),
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    });
    scene.draw(&mut pass, pipe, visible);
}
