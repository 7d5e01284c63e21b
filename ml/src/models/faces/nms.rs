//! Greedy non-maximum suppression as the face detectors' reference code does it: boxes are in
//! pixel-index coordinates, so a box from `x1` to `x2` is `x2 - x1 + 1` pixels wide.

/// How the overlap of two boxes is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// Intersection over union.
    Union,
    /// Intersection over the smaller box (MTCNN's last stage).
    Min,
}

fn area(bounds: &[f32; 4]) -> f32 {
    (bounds[2] - bounds[0] + 1.0) * (bounds[3] - bounds[1] + 1.0)
}

fn overlap(a: &[f32; 4], b: &[f32; 4], measure: Overlap) -> f32 {
    let width = (a[2].min(b[2]) - a[0].max(b[0]) + 1.0).max(0.0);
    let height = (a[3].min(b[3]) - a[1].max(b[1]) + 1.0).max(0.0);
    let intersection = width * height;
    match measure {
        Overlap::Union => intersection / (area(a) + area(b) - intersection),
        Overlap::Min => intersection / area(a).min(area(b)),
    }
}

/// The indices of the boxes to keep, best score first: each box in turn, from the highest score,
/// is kept and removes the remaining boxes that overlap it by more than `threshold`.
pub fn suppress(boxes: &[[f32; 4]], scores: &[f32], threshold: f32, measure: Overlap) -> Vec<usize> {
    let mut order: Vec<usize> = (0..boxes.len().min(scores.len())).collect();
    // Stable, so equal scores keep their order.
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut keep = Vec::new();
    let mut removed = vec![false; order.len()];
    for (position, &index) in order.iter().enumerate() {
        if removed[position] {
            continue;
        }
        keep.push(index);
        for (later, &other) in order.iter().enumerate().skip(position + 1) {
            if !removed[later] && overlap(&boxes[index], &boxes[other], measure) > threshold {
                removed[later] = true;
            }
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_weaker_boxes_go() {
        let boxes = [
            [0.0, 0.0, 9.0, 9.0],
            [1.0, 1.0, 10.0, 10.0],
            [20.0, 20.0, 29.0, 29.0],
            [0.0, 0.0, 4.0, 9.0],
        ];
        let scores = [0.8, 0.9, 0.7, 0.95];
        // Box 3 (half of box 0) removes box 0 (IoU 0.5) but not box 1 (36 / 114).
        assert_eq!(suppress(&boxes, &scores, 0.4, Overlap::Union), vec![3, 1, 2]);
        // Measured against the smaller box, 72% of box 3 lies inside box 1.
        assert_eq!(suppress(&boxes, &scores, 0.7, Overlap::Min), vec![3, 2]);
    }
}
