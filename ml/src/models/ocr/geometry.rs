//! The plane geometry DB post-processing needs, computed as OpenCV and Clipper compute it (the
//! libraries RapidOCR calls), so that boxes land on the same pixels: region borders of a binary
//! map, convex hulls, minimum-area rectangles, polygon filling and rounded polygon offsetting.

/// A point in pixel coordinates.
pub type PointF = [f32; 2];
/// A point with whole coordinates.
pub type PointI = [i64; 2];

/// The eight neighbours of a pixel, turning clockwise on screen (y grows downwards) from east.
const NEIGHBOURS: [[i64; 2]; 8] = [[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]];

/// The borders of the regions of a binary map (non-zero is inside): outer borders and the borders
/// of holes alike, each as the pixels it passes through (Suzuki and Abe's border following, as
/// OpenCV's `findContours` with `RETR_LIST` does it). Pixels are 8-connected. The borders come
/// last-found first, OpenCV's order.
pub fn find_contours(map: &[u8], width: usize, height: usize) -> Vec<Vec<PointI>> {
    // One pixel of background all around, so borders on the map's edge are followed too.
    let padded_width = width + 2;
    let mut labels = vec![0i32; padded_width * (height + 2)];
    for y in 0..height {
        for x in 0..width {
            if map[y * width + x] != 0 {
                labels[(y + 1) * padded_width + x + 1] = 1;
            }
        }
    }
    let mut tracer = Tracer {
        labels,
        width: padded_width,
    };
    let mut contours = Vec::new();
    let mut border_number = 1;
    for y in 1..=height {
        for x in 1..=width {
            let here = tracer.label(x as i64, y as i64);
            let start_from = if here == 1 && tracer.label(x as i64 - 1, y as i64) == 0 {
                Some(4) // an outer border: its background is to the west
            } else if here >= 1 && tracer.label(x as i64 + 1, y as i64) == 0 {
                Some(0) // a hole's border: the hole is to the east
            } else {
                None
            };
            if let Some(direction) = start_from {
                border_number += 1;
                let contour = tracer.follow([x as i64, y as i64], direction, border_number);
                contours.push(contour.into_iter().map(|[px, py]| [px - 1, py - 1]).collect());
            }
        }
    }
    contours.reverse();
    contours
}

struct Tracer {
    labels: Vec<i32>,
    width: usize,
}

impl Tracer {
    fn index(&self, x: i64, y: i64) -> usize {
        y as usize * self.width + x as usize
    }

    fn label(&self, x: i64, y: i64) -> i32 {
        self.labels[self.index(x, y)]
    }

    fn set(&mut self, [x, y]: PointI, value: i32) {
        let index = self.index(x, y);
        self.labels[index] = value;
    }

    fn neighbour([x, y]: PointI, direction: usize) -> PointI {
        let [dx, dy] = NEIGHBOURS[direction % 8];
        [x + dx, y + dy]
    }

    fn direction_to(from: PointI, to: PointI) -> usize {
        let step = [to[0] - from[0], to[1] - from[1]];
        NEIGHBOURS.iter().position(|&n| n == step).unwrap_or(0)
    }

    /// Follows one border from `start`, whose background neighbour lies in `direction`, marking
    /// its pixels with `border_number` (negative where the pixel's east is background).
    fn follow(&mut self, start: PointI, direction: usize, border_number: i32) -> Vec<PointI> {
        // The first non-zero neighbour, turning clockwise from the background one.
        let first = (0..8)
            .map(|turn| Self::neighbour(start, direction + turn))
            .find(|&p| self.label(p[0], p[1]) != 0);
        let Some(first) = first else {
            self.set(start, -border_number);
            return vec![start];
        };
        let mut points = Vec::new();
        let (mut previous, mut current) = (first, start);
        loop {
            points.push(current);
            // Turn counter-clockwise from the previous pixel to the next border pixel.
            let back = Self::direction_to(current, previous);
            let mut east_is_background = false;
            let mut next = previous;
            for turn in 1..=8 {
                let direction = (back + 8 - turn) % 8;
                let candidate = Self::neighbour(current, direction);
                if self.label(candidate[0], candidate[1]) != 0 {
                    next = candidate;
                    break;
                }
                if direction == 0 {
                    east_is_background = true;
                }
            }
            if east_is_background {
                self.set(current, -border_number);
            } else if self.label(current[0], current[1]) == 1 {
                self.set(current, border_number);
            }
            if next == start && current == first {
                return points;
            }
            previous = current;
            current = next;
        }
    }
}

/// The convex hull of `points` without collinear points, turning as OpenCV's does (clockwise on
/// screen) from the right-most point (the lowest on a tie), where OpenCV usually starts. The start
/// only decides which side the calipers call the width; the rectangle is the same.
pub fn convex_hull(points: &[PointF]) -> Vec<PointF> {
    let mut sorted: Vec<PointF> = points.to_vec();
    sorted.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    sorted.dedup();
    if sorted.len() < 3 {
        return sorted;
    }
    let cross = |o: PointF, a: PointF, b: PointF| {
        f64::from(a[0] - o[0]) * f64::from(b[1] - o[1]) - f64::from(a[1] - o[1]) * f64::from(b[0] - o[0])
    };
    // Andrew's monotone chain; the hull comes out with a positive shoelace area.
    let mut hull: Vec<PointF> = Vec::with_capacity(sorted.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let ordered: Box<dyn Iterator<Item = &PointF>> = if pass == 0 {
            Box::new(sorted.iter())
        } else {
            Box::new(sorted.iter().rev())
        };
        for &point in ordered {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], point) <= 0.0 {
                hull.pop();
            }
            hull.push(point);
        }
        hull.pop();
    }
    if hull.len() < 3 {
        return hull;
    }
    let first = (0..hull.len())
        .max_by(|&a, &b| {
            hull[a][0]
                .total_cmp(&hull[b][0])
                .then(hull[a][1].total_cmp(&hull[b][1]))
        })
        .unwrap_or(0);
    hull.rotate_left(first);
    hull
}

/// A rotated rectangle as OpenCV's `RotatedRect`: centre, width and height, angle in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedRect {
    pub center: PointF,
    pub size: [f32; 2],
    pub angle: f32,
}

impl RotatedRect {
    /// The corners, as OpenCV's `boxPoints` computes them (in single precision).
    pub fn corners(&self) -> [PointF; 4] {
        let radians = f64::from(self.angle) * std::f64::consts::PI / 180.0;
        let b = radians.cos() as f32 * 0.5;
        let a = radians.sin() as f32 * 0.5;
        let [cx, cy] = self.center;
        let [width, height] = self.size;
        let p0 = [cx - a * height - b * width, cy + b * height - a * width];
        let p1 = [cx + a * height - b * width, cy - b * height - a * width];
        [
            p0,
            p1,
            [2.0 * cx - p0[0], 2.0 * cy - p0[1]],
            [2.0 * cx - p1[0], 2.0 * cy - p1[1]],
        ]
    }
}

/// The rectangle of least area around `points` (OpenCV's `minAreaRect`: the convex hull, then
/// rotating calipers in single precision).
pub fn min_area_rect(points: &[PointF]) -> RotatedRect {
    let hull = convex_hull(points);
    let mut rect = RotatedRect {
        center: [0.0, 0.0],
        size: [0.0, 0.0],
        angle: 0.0,
    };
    let mut angle_radians = 0.0f32;
    match hull.len() {
        0 => {}
        1 => rect.center = hull[0],
        2 => {
            rect.center = [(hull[0][0] + hull[1][0]) * 0.5, (hull[0][1] + hull[1][1]) * 0.5];
            let dx = f64::from(hull[1][0] - hull[0][0]);
            let dy = f64::from(hull[1][1] - hull[0][1]);
            rect.size = [(dx * dx + dy * dy).sqrt() as f32, 0.0];
            angle_radians = dy.atan2(dx) as f32;
        }
        _ => {
            let [corner, along_width, along_height] = rotating_calipers(&hull);
            rect.center = [
                corner[0] + (along_width[0] + along_height[0]) * 0.5,
                corner[1] + (along_width[1] + along_height[1]) * 0.5,
            ];
            let length = |v: PointF| (f64::from(v[0]) * f64::from(v[0]) + f64::from(v[1]) * f64::from(v[1])).sqrt();
            rect.size = [length(along_width) as f32, length(along_height) as f32];
            angle_radians = f64::from(along_width[1]).atan2(f64::from(along_width[0])) as f32;
        }
    }
    rect.angle = (f64::from(angle_radians) * 180.0 / std::f64::consts::PI) as f32;
    rect
}

/// Rotating calipers over a convex polygon: a corner of the least-area rectangle and its two
/// sides as vectors. Single precision and tie-breaking (the last smallest wins) as OpenCV's.
fn rotating_calipers(points: &[PointF]) -> [PointF; 3] {
    let n = points.len();
    let mut edges = vec![[0.0f32; 2]; n];
    let mut inverse_lengths = vec![0.0f32; n];
    let (mut left, mut right, mut top, mut bottom) = (0, 0, 0, 0);
    let [mut left_x, mut top_y] = points[0];
    let (mut right_x, mut bottom_y) = (left_x, top_y);
    for i in 0..n {
        let here = points[i];
        if here[0] < left_x {
            (left_x, left) = (here[0], i);
        }
        if here[0] > right_x {
            (right_x, right) = (here[0], i);
        }
        if here[1] > top_y {
            (top_y, top) = (here[1], i);
        }
        if here[1] < bottom_y {
            (bottom_y, bottom) = (here[1], i);
        }
        let next = points[(i + 1) % n];
        let dx = f64::from(next[0]) - f64::from(here[0]);
        let dy = f64::from(next[1]) - f64::from(here[1]);
        edges[i] = [dx as f32, dy as f32];
        inverse_lengths[i] = (1.0 / (dx * dx + dy * dy).sqrt()) as f32;
    }
    // The polygon's turning direction decides the first caliper's orientation.
    let mut orientation = 0.0f32;
    let mut previous = edges[n - 1];
    for edge in &edges {
        let turn = f64::from(previous[0]) * f64::from(edge[1]) - f64::from(previous[1]) * f64::from(edge[0]);
        if turn != 0.0 {
            orientation = if turn > 0.0 { 1.0 } else { -1.0 };
            break;
        }
        previous = *edge;
    }
    let (mut base_a, mut base_b) = (orientation, 0.0f32);
    let mut sides = [bottom, right, top, left];
    let mut best_area = f32::MAX;
    let mut best = (sides[3], base_a, 0.0f32, base_b, 0.0f32, sides[0]);
    for _ in 0..n {
        let dots = [
            base_a * edges[sides[0]][0] + base_b * edges[sides[0]][1],
            -base_b * edges[sides[1]][0] + base_a * edges[sides[1]][1],
            -base_a * edges[sides[2]][0] - base_b * edges[sides[2]][1],
            base_b * edges[sides[3]][0] - base_a * edges[sides[3]][1],
        ];
        let mut main = 0;
        let mut max_cos = dots[0] * inverse_lengths[sides[0]];
        for (i, dot) in dots.iter().enumerate().skip(1) {
            let cos = dot * inverse_lengths[sides[i]];
            if cos > max_cos {
                (main, max_cos) = (i, cos);
            }
        }
        let lead = sides[main];
        let lead_x = edges[lead][0] * inverse_lengths[lead];
        let lead_y = edges[lead][1] * inverse_lengths[lead];
        (base_a, base_b) = match main {
            0 => (lead_x, lead_y),
            1 => (lead_y, -lead_x),
            2 => (-lead_x, -lead_y),
            _ => (-lead_y, lead_x),
        };
        sides[main] = (sides[main] + 1) % n;
        let width =
            (points[sides[1]][0] - points[sides[3]][0]) * base_a + (points[sides[1]][1] - points[sides[3]][1]) * base_b;
        let height = -(points[sides[2]][0] - points[sides[0]][0]) * base_b
            + (points[sides[2]][1] - points[sides[0]][1]) * base_a;
        let area = width * height;
        if area <= best_area {
            best_area = area;
            best = (sides[3], base_a, width, base_b, height, sides[0]);
        }
    }
    let (leftmost, a1, width, b1, height, lowest) = best;
    let (a2, b2) = (-b1, a1);
    let c1 = a1 * points[leftmost][0] + points[leftmost][1] * b1;
    let c2 = a2 * points[lowest][0] + points[lowest][1] * b2;
    let inverse_det = 1.0 / (a1 * b2 - a2 * b1);
    let corner = [(c1 * b2 - c2 * b1) * inverse_det, (a1 * c2 - a2 * c1) * inverse_det];
    [corner, [a1 * width, b1 * width], [a2 * height, b2 * height]]
}

/// Fills a polygon with whole-pixel corners into `mask` (`width` × rows) with `value`, as
/// OpenCV's `fillPoly` with 8-connected edges: the outline's pixels and every pixel between the
/// edges on each row (edges in 16.16 fixed point, pairs of crossings filled between). Matches
/// OpenCV 5.1 pixel for pixel on polygons inside the mask (2,500 random ones); where an edge
/// leaves the mask OpenCV clips the line first and may step differently.
pub fn fill_polygon(mask: &mut [u8], width: usize, polygon: &[PointI], value: u8) {
    let height = mask.len().checked_div(width).unwrap_or(0);
    if polygon.is_empty() || height == 0 {
        return;
    }
    let mut plot = |x: i64, y: i64| {
        if (0..width as i64).contains(&x) && (0..height as i64).contains(&y) {
            mask[y as usize * width + x as usize] = value;
        }
    };
    struct Edge {
        top: i64,
        bottom: i64,
        x: i64,
        step: i64,
    }
    let mut edges = Vec::with_capacity(polygon.len());
    let mut previous = polygon[polygon.len() - 1];
    for &point in polygon {
        draw_line(previous, point, &mut plot);
        if previous[1] != point[1] {
            let (upper, lower) = if previous[1] < point[1] {
                (previous, point)
            } else {
                (point, previous)
            };
            edges.push(Edge {
                top: upper[1],
                bottom: lower[1],
                x: upper[0] << 16,
                step: ((point[0] - previous[0]) << 16) / (point[1] - previous[1]),
            });
        }
        previous = point;
    }
    let top = edges.iter().map(|e| e.top).min().unwrap_or(0).max(0);
    let bottom = edges.iter().map(|e| e.bottom).max().unwrap_or(0).min(height as i64);
    let mut crossings = Vec::new();
    for y in top..bottom {
        crossings.clear();
        crossings.extend(
            edges
                .iter()
                .filter(|e| e.top <= y && y < e.bottom)
                .map(|e| e.x + (y - e.top) * e.step),
        );
        crossings.sort_unstable();
        // Pixels whose x lies between the edges: the left one rounded up, the right one down.
        for pair in crossings.chunks_exact(2) {
            let (from, to) = (((pair[0] + 0xFFFF) >> 16).max(0), (pair[1] >> 16).min(width as i64 - 1));
            for x in from..=to {
                plot(x, y);
            }
        }
    }
}

/// An 8-connected line between whole-pixel points, drawn left to right as OpenCV's
/// `LineIterator` steps (Bresenham).
fn draw_line(from: PointI, to: PointI, plot: &mut impl FnMut(i64, i64)) {
    let (start, end) = if to[0] < from[0] { (to, from) } else { (from, to) };
    let dx = end[0] - start[0];
    let dy = (end[1] - start[1]).abs();
    let y_step = if end[1] < start[1] { -1 } else { 1 };
    let steep = dy > dx;
    let (major, minor) = if steep { (dy, dx) } else { (dx, dy) };
    let mut error = major - 2 * minor;
    let [mut x, mut y] = start;
    for _ in 0..=major {
        plot(x, y);
        let diagonal = error < 0;
        error += if diagonal { 2 * major - 2 * minor } else { -2 * minor };
        if steep {
            y += y_step;
            if diagonal {
                x += 1;
            }
        } else {
            x += 1;
            if diagonal {
                y += y_step;
            }
        }
    }
}

/// Grows a closed polygon by `delta` with round joins, as Clipper's `ClipperOffset` does
/// (`JT_ROUND`, `ET_CLOSEDPOLYGON`, arc tolerance 0.25): the corners of the grown outline,
/// rounded to whole numbers.
pub fn offset_round(polygon: &[PointI], delta: f64) -> Vec<PointI> {
    let mut path: Vec<PointI> = Vec::with_capacity(polygon.len());
    for &point in polygon {
        if path.last() != Some(&point) {
            path.push(point);
        }
    }
    while path.len() > 1 && path.first() == path.last() {
        path.pop();
    }
    if path.len() < 3 || delta <= 0.0 {
        return path;
    }
    // Clipper turns outer polygons to positive area first.
    let doubled_area: f64 = (0..path.len())
        .map(|i| {
            let previous = path[(i + path.len() - 1) % path.len()];
            (previous[0] + path[i][0]) as f64 * (previous[1] - path[i][1]) as f64
        })
        .sum();
    if -doubled_area < 0.0 {
        path.reverse();
    }
    let tolerance = 0.25f64.min(delta * 0.25);
    let steps = (std::f64::consts::PI / (1.0 - tolerance / delta).acos()).min(delta * std::f64::consts::PI);
    let (sin, cos) = (std::f64::consts::TAU / steps).sin_cos();
    let steps_per_radian = steps / std::f64::consts::TAU;
    let n = path.len();
    let normals: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            let (a, b) = (path[i], path[(i + 1) % n]);
            let (dx, dy) = ((b[0] - a[0]) as f64, (b[1] - a[1]) as f64);
            let length = (dx * dx + dy * dy).sqrt();
            if length == 0.0 {
                [0.0, 0.0]
            } else {
                [dy / length, -dx / length]
            }
        })
        .collect();
    let round = |value: f64| {
        if value < 0.0 {
            (value - 0.5) as i64
        } else {
            (value + 0.5) as i64
        }
    };
    let shifted = |point: PointI, normal: [f64; 2]| {
        [
            round(point[0] as f64 + normal[0] * delta),
            round(point[1] as f64 + normal[1] * delta),
        ]
    };
    let mut out = Vec::new();
    let mut k = n - 1;
    for j in 0..n {
        let (before, after) = (normals[k], normals[j]);
        let mut sin_a = before[0] * after[1] - after[0] * before[1];
        let cos_a = before[0] * after[0] + before[1] * after[1];
        if (sin_a * delta).abs() < 1.0 && cos_a > 0.0 {
            // Nearly straight on: one point is enough.
            out.push(shifted(path[j], before));
            k = j;
            continue;
        }
        sin_a = sin_a.clamp(-1.0, 1.0);
        if sin_a * delta < 0.0 {
            out.push(shifted(path[j], before));
            out.push(path[j]);
            out.push(shifted(path[j], after));
        } else {
            let angle = sin_a.atan2(cos_a);
            let arc_steps = ((steps_per_radian * angle.abs()).round() as i64).max(1);
            let [mut x, mut y] = before;
            for _ in 0..arc_steps {
                out.push(shifted(path[j], [x, y]));
                (x, y) = (x * cos - sin * y, x * sin + y * cos);
            }
            out.push(shifted(path[j], after));
        }
        k = j;
    }
    out
}

/// Area and perimeter of a polygon (Shapely's `Polygon(points).area` and `.length`).
pub fn area_and_perimeter(polygon: &[PointF]) -> (f64, f64) {
    let n = polygon.len();
    let mut doubled_area = 0.0;
    let mut perimeter = 0.0;
    for i in 0..n {
        let (a, b) = (polygon[i], polygon[(i + 1) % n]);
        let (ax, ay, bx, by) = (f64::from(a[0]), f64::from(a[1]), f64::from(b[0]), f64::from(b[1]));
        doubled_area += ax * by - bx * ay;
        perimeter += ((bx - ax).powi(2) + (by - ay).powi(2)).sqrt();
    }
    (doubled_area.abs() / 2.0, perimeter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contours_come_as_opencv_finds_them() {
        // Two blocks, one with a hole, and a lone pixel (values from OpenCV 5.1).
        let (width, height) = (20, 20);
        let mut map = vec![0u8; width * height];
        let mut block = |x0: usize, x1: usize, y0: usize, y1: usize, value: u8| {
            for y in y0..y1 {
                for x in x0..x1 {
                    map[y * width + x] = value;
                }
            }
        };
        block(2, 6, 2, 5, 1);
        block(3, 12, 10, 18, 1);
        block(5, 8, 12, 15, 0);
        block(15, 16, 15, 16, 1);
        let contours = find_contours(&map, width, height);
        assert_eq!(contours.len(), 4);
        assert_eq!(contours[0], vec![[15, 15]]);
        let mut hole = contours[1].clone();
        hole.sort_unstable();
        assert_eq!(hole.first(), Some(&[4, 12]));
        assert_eq!(hole.last(), Some(&[8, 14]));
        let mut corners = contours[2].clone();
        corners.retain(|p| (p[0] == 3 || p[0] == 11) && (p[1] == 10 || p[1] == 17));
        assert_eq!(corners.len(), 4);
        assert!(contours[3].contains(&[2, 2]) && contours[3].contains(&[5, 4]));
    }

    #[test]
    fn the_least_area_rectangle_matches_opencv() {
        // OpenCV: centre (5, 4.5), sides 6.320222 × 8.778086; which side is the width depends on
        // where its hull starts, the corners do not.
        let rect = min_area_rect(&[[2.0, 0.0], [10.0, 3.0], [8.0, 9.0], [0.0, 6.0]]);
        assert!((rect.center[0] - 5.0).abs() < 1e-5 && (rect.center[1] - 4.5).abs() < 1e-5);
        let (short, long) = (rect.size[0].min(rect.size[1]), rect.size[0].max(rect.size[1]));
        assert!(
            (short - 6.320_222).abs() < 1e-4 && (long - 8.778_086).abs() < 1e-4,
            "{rect:?}"
        );
        let opencv = [
            [8.0, 9.0],
            [-0.219_178_2, 5.917_808_5],
            [2.0, 0.0],
            [10.219_177, 3.082_191_7],
        ];
        for corner in rect.corners() {
            assert!(
                opencv
                    .iter()
                    .any(|c| (c[0] - corner[0]).abs() < 1e-4 && (c[1] - corner[1]).abs() < 1e-4),
                "{corner:?}"
            );
        }
    }

    #[test]
    fn hulls_start_at_the_right_and_turn_clockwise_on_screen() {
        let hull = convex_hull(&[[0.0, 0.0], [10.0, 0.0], [10.0, 5.0], [0.0, 5.0], [5.0, 2.0], [3.0, 1.0]]);
        assert_eq!(hull, vec![[10.0, 5.0], [0.0, 5.0], [0.0, 0.0], [10.0, 0.0]]);
    }

    #[test]
    fn filling_covers_the_outline_and_inside() {
        let mut mask = vec![0u8; 6 * 5];
        fill_polygon(&mut mask, 6, &[[1, 1], [4, 1], [4, 3], [1, 3]], 1);
        let filled: usize = mask.iter().map(|&v| usize::from(v)).sum();
        assert_eq!(filled, 12);
        assert_eq!(mask[6 + 1], 1);
        assert_eq!(mask[3 * 6 + 4], 1);
        assert_eq!(mask[4 * 6 + 4], 0);
    }

    #[test]
    fn offsetting_grows_a_rectangle_by_the_distance() {
        let grown = offset_round(&[[10, 10], [30, 10], [30, 20], [10, 20]], 3.0);
        let xs: Vec<i64> = grown.iter().map(|p| p[0]).collect();
        let ys: Vec<i64> = grown.iter().map(|p| p[1]).collect();
        assert_eq!((xs.iter().min(), xs.iter().max()), (Some(&7), Some(&33)));
        assert_eq!((ys.iter().min(), ys.iter().max()), (Some(&7), Some(&23)));
    }
}
