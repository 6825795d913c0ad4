/// The sizes of one pooling, resolved from its input.
struct PoolShape {
  let batch, height, width, channels: Int
  let outputHeight, outputWidth: Int
  let geometry: WindowGeometry

  init(_ input: Shape, _ geometry: WindowGeometry) {
    (batch, height, width, channels) = (input[0], input[1], input[2], input[3])
    outputHeight = geometry.outputHeight(height)
    outputWidth = geometry.outputWidth(width)
    self.geometry = geometry
  }

  var outputShape: Shape { Shape(batch, outputHeight, outputWidth, channels) }

  /// Calls `body(n, oy, ox, offset)` for every output pixel of the images `images` (or of
  /// the output rows `n·outputHeight + oy` in `rows`), `offset` locating its channels in y.
  @inline(__always)
  func forEachOutputPixel(rows: Range<Int>, _ body: (Int, Int, Int, Int) -> Void) {
    for outputRow in rows {
      let n = outputRow / outputHeight
      let oy = outputRow % outputHeight
      for ox in 0..<outputWidth {
        body(n, oy, ox, ((n * outputHeight + oy) * outputWidth + ox) * channels)
      }
    }
  }

  func forEachOutputPixel(images: Range<Int>, _ body: (Int, Int, Int, Int) -> Void) {
    forEachOutputPixel(
      rows: (images.lowerBound * outputHeight)..<(images.upperBound * outputHeight), body)
  }

  /// Calls `body(inputPixel)` for each in-image pixel of the window of output pixel
  /// (n, oy, ox); padding positions are skipped.
  @inline(__always)
  func forEachWindowPixel(n: Int, oy: Int, ox: Int, _ body: (Int) -> Void) {
    let g = geometry
    for ky in 0..<g.kernelHeight {
      let iy = oy * g.strideY - g.padding.top + ky
      guard iy >= 0 && iy < height else { continue }
      for kx in 0..<g.kernelWidth {
        let ix = ox * g.strideX - g.padding.left + kx
        guard ix >= 0 && ix < width else { continue }
        body((n * height + iy) * width + ix)
      }
    }
  }
}

/// Max pooling over NHWC windows; padding never wins. Backward recomputes the arg-max
/// (the first maximum in window order) instead of storing indices. Forward runs in
/// parallel over output rows, backward over images (their input gradients are disjoint).
enum MaxPoolKernel {
  static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, shape: PoolShape) {
    ThreadPool.shared.parallelFor(
      shape.batch * shape.outputHeight, work: shape.outputShape.count * 9,
      Forward(x: x, y: y, shape: shape))
  }

  /// dx[argmax] += dy, using y to recognise the maximum.
  static func backward(
    x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>, shape: PoolShape
  ) {
    ThreadPool.shared.parallelFor(
      shape.batch, work: shape.outputShape.count * 9,
      Backward(x: x, y: y, dy: dy, dx: dx, shape: shape))
  }

  struct Forward: ParallelJob {
    let x: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let shape: PoolShape

    func run(_ outputRows: Range<Int>) {
      let c = shape.channels
      shape.forEachOutputPixel(rows: outputRows) { n, oy, ox, offset in
        let out = y + offset
        out.update(repeating: -.infinity, count: c)
        shape.forEachWindowPixel(n: n, oy: oy, ox: ox) { pixel in
          let input = x + pixel * c
          var channel = 0
          while channel + 16 <= c {
            let candidate = input.lanes(at: channel)
            let best = out.lanes(at: channel)
            out.store(best.replacing(with: candidate, where: candidate .> best), at: channel)
            channel += 16
          }
          while channel < c {
            if input[channel] > out[channel] { out[channel] = input[channel] }
            channel += 1
          }
        }
      }
    }
  }

  struct Backward: ParallelJob {
    let x, y, dy: UnsafePointer<Float>
    let dx: UnsafeMutablePointer<Float>
    let shape: PoolShape

    func run(_ images: Range<Int>) {
      let c = shape.channels
      shape.forEachOutputPixel(images: images) { n, oy, ox, offset in
        var channel = 0
        while channel + 16 <= c {
          route16(n: n, oy: oy, ox: ox, offset: offset, channel: channel)
          channel += 16
        }
        while channel < c {
          route(n: n, oy: oy, ox: ox, offset: offset, channel: channel)
          channel += 1
        }
      }
    }

    /// Sends dy of sixteen channels to the first window pixel holding each one's maximum.
    @inline(__always)
    private func route16(n: Int, oy: Int, ox: Int, offset: Int, channel: Int) {
      let maximum = y.lanes(at: offset + channel)
      let gradient = dy.lanes(at: offset + channel)
      var routed = SIMDMask<SIMD16<Int32>>(repeating: false)
      shape.forEachWindowPixel(n: n, oy: oy, ox: ox) { pixel in
        let hit = (x.lanes(at: pixel * shape.channels + channel) .== maximum) .& .!routed
        let target = dx + pixel * shape.channels + channel
        target.store(target.lanes(at: 0) + gradient.replacing(with: 0, where: .!hit), at: 0)
        routed .|= hit
      }
    }

    @inline(__always)
    private func route(n: Int, oy: Int, ox: Int, offset: Int, channel: Int) {
      var routed = false
      shape.forEachWindowPixel(n: n, oy: oy, ox: ox) { pixel in
        if !routed && x[pixel * shape.channels + channel] == y[offset + channel] {
          dx[pixel * shape.channels + channel] += dy[offset + channel]
          routed = true
        }
      }
    }
  }
}

/// Average pooling over NHWC windows; the mean is over in-image pixels only (padding is
/// not counted), as TensorFlow's "same" average pooling does. Parallel as max pooling.
enum AveragePoolKernel {
  static func windowCount(_ shape: PoolShape, n: Int, oy: Int, ox: Int) -> Float {
    var count = 0
    shape.forEachWindowPixel(n: n, oy: oy, ox: ox) { _ in count += 1 }
    return Float(count)
  }

  static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, shape: PoolShape) {
    ThreadPool.shared.parallelFor(
      shape.batch * shape.outputHeight, work: shape.outputShape.count * 9,
      Forward(x: x, y: y, shape: shape))
  }

  static func backward(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, shape: PoolShape)
  {
    ThreadPool.shared.parallelFor(
      shape.batch, work: shape.outputShape.count * 9, Backward(dy: dy, dx: dx, shape: shape))
  }

  struct Forward: ParallelJob {
    let x: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let shape: PoolShape

    func run(_ outputRows: Range<Int>) {
      let c = shape.channels
      shape.forEachOutputPixel(rows: outputRows) { n, oy, ox, offset in
        let out = y + offset
        out.update(repeating: 0, count: c)
        shape.forEachWindowPixel(n: n, oy: oy, ox: ox) { pixel in
          let input = x + pixel * c
          for channel in 0..<c { out[channel] += input[channel] }
        }
        let scale = 1 / AveragePoolKernel.windowCount(shape, n: n, oy: oy, ox: ox)
        for channel in 0..<c { out[channel] *= scale }
      }
    }
  }

  struct Backward: ParallelJob {
    let dy: UnsafePointer<Float>
    let dx: UnsafeMutablePointer<Float>
    let shape: PoolShape

    func run(_ images: Range<Int>) {
      let c = shape.channels
      shape.forEachOutputPixel(images: images) { n, oy, ox, offset in
        let scale = 1 / AveragePoolKernel.windowCount(shape, n: n, oy: oy, ox: ox)
        shape.forEachWindowPixel(n: n, oy: oy, ox: ox) { pixel in
          let target = dx + pixel * c
          for channel in 0..<c { target[channel] += dy[offset + channel] * scale }
        }
      }
    }
  }
}

extension Tape {
  public func maxPool2d(
    _ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: Padding2D = .none
  ) -> Tensor {
    precondition(x.shape.rank == 4, "maxPool2d: x \(x.shape)")
    let shape = PoolShape(x.shape, WindowGeometry(kernel: kernel, stride: stride, padding: padding))
    let y = output(shape.outputShape, x)
    MaxPoolKernel.forward(x: x.data, y: y.data, shape: shape)
    record(.maxPool(x: x, y: y, shape: shape), producing: y)
    return y
  }

  public func averagePool2d(
    _ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: Padding2D = .none
  ) -> Tensor {
    precondition(x.shape.rank == 4, "averagePool2d: x \(x.shape)")
    let shape = PoolShape(x.shape, WindowGeometry(kernel: kernel, stride: stride, padding: padding))
    let y = output(shape.outputShape, x)
    AveragePoolKernel.forward(x: x.data, y: y.data, shape: shape)
    record(.averagePool(x: x, y: y, shape: shape), producing: y)
    return y
  }
}
