//! The orbit camera: a target point, a distance, a heading and a pitch, in the scene's local frame.
//!
//! # Units
//! Metres; angles in degrees. Heading 0 looks north, 90 east; pitch is the angle below the horizon (90 = straight
//! down). z is elevation in metres.

use glam::{DMat4, DVec3, Mat4};

/// An orbit camera.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrbitCamera {
    /// The point looked at, local frame.
    pub target: [f64; 3],
    /// Distance from the eye to the target, metres.
    pub distance: f64,
    /// Compass direction of view, degrees clockwise from north.
    pub heading_deg: f64,
    /// Angle below the horizon, degrees (5..=89.5).
    pub pitch_deg: f64,
    /// Vertical field of view, degrees.
    pub fov_y_deg: f64,
}

impl OrbitCamera {
    /// Unit view direction.
    pub fn direction(&self) -> DVec3 {
        let (h, p) = (self.heading_deg.to_radians(), self.pitch_deg.to_radians());
        DVec3::new(h.sin() * p.cos(), h.cos() * p.cos(), -p.sin())
    }

    /// Eye position, local frame.
    pub fn eye(&self) -> DVec3 {
        DVec3::from(self.target) - self.direction() * self.distance
    }

    /// A camera that shows the box `[min_x, min_y, min_z, max_x, max_y, max_z]` from the south-south-west at 45°.
    pub fn fit(bbox: [f64; 6], aspect: f64) -> Self {
        let c = [
            (bbox[0] + bbox[3]) / 2.0,
            (bbox[1] + bbox[4]) / 2.0,
            (bbox[2] + bbox[5]) / 2.0,
        ];
        let r = 0.5
            * ((bbox[3] - bbox[0]).powi(2)
                + (bbox[4] - bbox[1]).powi(2)
                + (bbox[5] - bbox[2]).powi(2))
            .sqrt();
        let fov_y: f64 = 45.0;
        let vertical = fov_y.to_radians() / 2.0;
        let horizontal = (vertical.tan() * aspect.max(0.1)).atan();
        let half = vertical.min(horizontal);
        OrbitCamera {
            target: c,
            // An oblique view foreshortens the far half: 0.8 of the bounding sphere fills the frame well.
            distance: (r.max(10.0) / half.sin()) * 0.7,
            heading_deg: 20.0,
            pitch_deg: 45.0,
            fov_y_deg: fov_y,
        }
    }

    /// A camera with its eye at `eye` (local frame), looking along heading and pitch; the target is where the view
    /// meets elevation `ground_z` (or 1 km ahead when looking above the horizon).
    pub fn from_eye(eye: [f64; 3], heading_deg: f64, pitch_deg: f64, ground_z: f64) -> Self {
        let pitch = pitch_deg.clamp(-89.5, 89.5);
        let mut c = OrbitCamera {
            target: eye,
            distance: 1000.0,
            heading_deg,
            pitch_deg: pitch,
            fov_y_deg: 45.0,
        };
        let d = c.direction();
        let dist = if d.z < -1e-3 {
            ((eye[2] - ground_z) / -d.z).max(1.0)
        } else {
            1000.0
        };
        c.target = (DVec3::from(eye) + d * dist).into();
        c.distance = dist;
        c
    }

    /// View-projection for camera-relative coordinates (eye at the origin), reversed-Z infinite perspective.
    pub fn view_proj_relative(&self, aspect: f64) -> Mat4 {
        let view = DMat4::look_to_rh(DVec3::ZERO, self.direction(), DVec3::Z);
        let near = (self.distance * 1e-3).clamp(0.05, 10.0);
        let proj =
            DMat4::perspective_infinite_reverse_rh(self.fov_y_deg.to_radians(), aspect, near);
        (proj * view).as_mat4()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_and_pitch() {
        let c = OrbitCamera {
            target: [0.0; 3],
            distance: 10.0,
            heading_deg: 90.0,
            pitch_deg: 0.0,
            fov_y_deg: 45.0,
        };
        let d = c.direction();
        assert!(
            (d.x - 1.0).abs() < 1e-12 && d.z.abs() < 1e-12,
            "heading 90 looks east"
        );
        assert!((c.eye().x + 10.0).abs() < 1e-9);
        let down = OrbitCamera {
            pitch_deg: 90.0,
            ..c
        };
        assert!((down.direction().z + 1.0).abs() < 1e-12);
    }

    #[test]
    fn from_eye_hits_the_ground() {
        let c = OrbitCamera::from_eye([0.0, 0.0, 100.0], 0.0, 45.0, 0.0);
        assert!((c.target[2]).abs() < 1e-9);
        assert!(
            (c.target[1] - 100.0).abs() < 1e-9,
            "45° down from 100 m lands 100 m north"
        );
        let p = c.view_proj_relative(1.0) * glam::Vec4::new(0.0, 100.0, -100.0, 1.0);
        assert!(
            (p.x / p.w).abs() < 1e-4 && (p.y / p.w).abs() < 1e-4,
            "the target is in the centre"
        );
    }
}
