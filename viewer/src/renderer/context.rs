//! Device creation, windowless.

use crate::RenderError;

/// An adapter, its device and queue.
#[derive(Debug)]
pub struct GpuContext {
    /// The instance.
    pub instance: wgpu::Instance,
    /// The adapter in use.
    pub adapter: wgpu::Adapter,
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
}

impl GpuContext {
    /// A device without a window: any adapter the backends allow (`WGPU_BACKEND=vulkan|gl` chooses; on a
    /// machine without a GPU that is Mesa's lavapipe (Vulkan) or llvmpipe (GL)).
    ///
    /// # Errors
    /// [`RenderError::NoAdapter`] when no graphics adapter is usable.
    pub fn headless() -> Result<Self, RenderError> {
        let chosen = std::env::var_os("WGPU_BACKEND").is_some();
        // Vulkan first (a GPU, or lavapipe); GL through EGL only when Vulkan has no adapter.
        let tries: &[wgpu::Backends] = if chosen {
            &[wgpu::Backends::all()]
        } else {
            &[wgpu::Backends::VULKAN, wgpu::Backends::GL]
        };
        let mut errors = Vec::new();
        for &backends in tries {
            let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
            if !chosen {
                desc.backends = backends;
            }
            let instance = wgpu::Instance::new(desc);
            match pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: false,
                compatible_surface: None,
                apply_limit_buckets: false,
            })) {
                Ok(adapter) => return Self::with_adapter(instance, adapter),
                Err(e) => errors.push(format!("{backends:?}: {e}")),
            }
        }
        Err(RenderError::NoAdapter(errors.join("; ")))
    }

    /// A device on a given adapter.
    ///
    /// # Errors
    /// [`RenderError::NoAdapter`] when the device cannot be created.
    pub fn with_adapter(
        instance: wgpu::Instance,
        adapter: wgpu::Adapter,
    ) -> Result<Self, RenderError> {
        let info = adapter.get_info();
        tracing::info!(name = %info.name, backend = ?info.backend, kind = ?info.device_type, "graphics adapter");
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("citytwin"),
            required_limits: wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
            ..Default::default()
        }))
        .map_err(|e| RenderError::NoAdapter(format!("{} ({:?}): {e}", info.name, info.backend)))?;
        Ok(GpuContext {
            instance,
            adapter,
            device,
            queue,
        })
    }

    /// "name (backend)" of the adapter.
    pub fn describe(&self) -> String {
        let i = self.adapter.get_info();
        format!("{} ({:?}, {:?})", i.name, i.backend, i.device_type)
    }
}
