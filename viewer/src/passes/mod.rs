//! Per-frame passes: the main 3D pass into an MSAA target, the legend overlay, and the screenshot read-back.

mod main_pass;
mod overlay;
mod screenshot;

pub use main_pass::{main_pass, Target};
pub use overlay::{draw_overlay, legend_contents};
pub use screenshot::read_back;
