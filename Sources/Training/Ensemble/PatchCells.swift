import TensorEngine

/// Rearranges patches of n × n mapping units into one input per unit, which is what the
/// density network sees: [B, n·P, n·P, C] → [B·n·n, P, P, C], units in row-major order
/// within each patch (the order of the labels).
public enum PatchCells {
  public static func split(_ patches: Tensor, cellsPerSide n: Int, into cells: Tensor) {
    let (batch, side, channels) = (patches.shape[0], patches.shape[1], patches.shape[3])
    let pixels = side / n
    precondition(
      cells.shape == Shape(batch * n * n, pixels, pixels, channels),
      "cells \(cells.shape) for patches \(patches.shape)")
    let rowFloats = pixels * channels
    for b in 0..<batch {
      for cell in 0..<(n * n) {
        let (cy, cx) = (cell / n, cell % n)
        let destination = cells.data + (b * n * n + cell) * pixels * rowFloats
        for y in 0..<pixels {
          let source =
            patches.data + ((b * side + cy * pixels + y) * side + cx * pixels) * channels
          (destination + y * rowFloats).update(from: source, count: rowFloats)
        }
      }
    }
  }
}
