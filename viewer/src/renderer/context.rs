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
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        if std::env::var_os("WGPU_BACKEND").is_none() {
            desc.backends = wgpu::Backends::VULKAN | wgpu::Backends::GL;
        }
        let instance = wgpu::Instance::new(desc);
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
            apply_limit_buckets: false,
        }))
        .map_err(|e| RenderError::NoAdapter(e.to_string()))?;
        Self::with_adapter(instance, adapter)
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
