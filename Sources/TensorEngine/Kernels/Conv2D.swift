/// Zero padding on each side of an image, possibly asymmetric (as TensorFlow's "same" is
/// for even kernels).
public struct Padding2D: Equatable, Sendable {
  public var top: Int
  public var bottom: Int
  public var left: Int
  public var right: Int

  public init(top: Int, bottom: Int, left: Int, right: Int) {
    self.top = top
    self.bottom = bottom
    self.left = left
    self.right = right
  }

  /// The same padding on every side.
  public init(_ all: Int) { self.init(top: all, bottom: all, left: all, right: all) }

  public static let none = Padding2D(0)
}

/// Window size, stride and padding of a convolution or pooling over NHWC images.
public struct WindowGeometry: Equatable, Sendable {
  public var kernelHeight: Int
  public var kernelWidth: Int
  public var strideY: Int
  public var strideX: Int
  public var padding: Padding2D

  public init(kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: Padding2D = .none) {
    (kernelHeight, kernelWidth) = kernel
    (strideY, strideX) = stride
    self.padding = padding
  }

  public func outputHeight(_ height: Int) -> Int {
    (height + padding.top + padding.bottom - kernelHeight) / strideY + 1
  }

  public func outputWidth(_ width: Int) -> Int {
    (width + padding.left + padding.right - kernelWidth) / strideX + 1
  }

  /// 1×1, stride 1, no padding: the convolution is one GEMM over the input as it is.
  var isPointwise: Bool {
    kernelHeight == 1 && kernelWidth == 1 && strideY == 1 && strideX == 1 && padding == .none
  }
}

/// The sizes of one convolution, resolved from its tensors.
struct ConvShape {
  let batch, height, width, inputChannels: Int
  let outputHeight, outputWidth, outputChannels: Int
  let geometry: WindowGeometry

  /// Rows of the im2col matrix: one per output pixel.
  var rows: Int { batch * outputHeight * outputWidth }
  /// Columns of the im2col matrix: one per weight of a filter.
  var patchSize: Int { geometry.kernelHeight * geometry.kernelWidth * inputChannels }

  /// The convolution whose forward pass is this one's input gradient, where there is one
  /// as plain as this: stride 1 and no side padded by a whole kernel. It runs over dy
  /// (output pixels as its input) with the filters flipped and their channels swapped.
  var transposed: ConvShape? {
    let g = geometry
    let p = g.padding
    guard g.strideY == 1, g.strideX == 1,
      max(p.top, p.bottom) < g.kernelHeight, max(p.left, p.right) < g.kernelWidth
    else { return nil }
    let padding = Padding2D(
      top: g.kernelHeight - 1 - p.top, bottom: g.kernelHeight - 1 - p.bottom,
      left: g.kernelWidth - 1 - p.left, right: g.kernelWidth - 1 - p.right)
    return ConvShape(
      batch: batch, height: outputHeight, width: outputWidth, inputChannels: outputChannels,
      outputHeight: height, outputWidth: width, outputChannels: inputChannels,
      geometry: WindowGeometry(kernel: (g.kernelHeight, g.kernelWidth), padding: padding))
  }

  /// For each kernel position of im2col row `row` (one output pixel): the offset of its
  /// channels within the row, and the input pixel it reads, or nil where it falls in the
  /// zero padding.
  @inline(__always)
  func forEachPatchEntry(ofRow row: Int, _ body: (_ entry: Int, _ pixel: Int?) -> Void) {
    let g = geometry
    let outputPixels = outputHeight * outputWidth
    let n = row / outputPixels
    let oy = (row % outputPixels) / outputWidth
    let ox = row % outputWidth
    var entry = 0
    for ky in 0..<g.kernelHeight {
      let iy = oy * g.strideY - g.padding.top + ky
      for kx in 0..<g.kernelWidth {
        let ix = ox * g.strideX - g.padding.left + kx
        let inside = iy >= 0 && iy < height && ix >= 0 && ix < width
        body(entry, inside ? (n * height + iy) * width + ix : nil)
        entry += inputChannels
      }
    }
  }
}

/// 2-D convolution, NHWC input, weights [KH, KW, Cin, Cout] (HWIO). Pointwise convolutions
/// are one GEMM over the whole batch; others build the im2col matrix a chunk of rows at a
/// time (bounding memory) and multiply each chunk by the weights. Backward recomputes the
/// chunks instead of keeping them; the input gradient of a stride-1 convolution is itself
/// a convolution (of dy, by the flipped filters), elsewhere patch gradients scattered back.
enum Conv2DKernel {
  /// Rows of im2col per chunk so that a chunk holds at most `budget` floats.
  static func chunkRows(_ shape: ConvShape, budget: Int) -> Int {
    max(1, min(shape.rows, budget / max(1, shape.patchSize)))
  }

  /// im2col of rows [start, start + count), split over the thread pool by rows.
  static func parallelIm2col(
    _ x: UnsafePointer<Float>, _ shape: ConvShape, rows start: Int, count: Int,
    into columns: UnsafeMutablePointer<Float>
  ) {
    ThreadPool.shared.parallelFor(
      count, work: count * shape.patchSize,
      Im2col(x: x, shape: shape, start: start, columns: columns))
  }

  /// col2im of rows [start, start + count), split over the thread pool by input channels
  /// (rows overlap in dx, channel slices do not).
  static func parallelCol2im(
    _ columns: UnsafePointer<Float>, _ shape: ConvShape, rows start: Int, count: Int,
    into dx: UnsafeMutablePointer<Float>
  ) {
    ThreadPool.shared.parallelFor(
      shape.inputChannels, work: count * shape.patchSize,
      Col2im(columns: columns, shape: shape, start: start, count: count, dx: dx))
  }

  struct Im2col: ParallelJob {
    let x: UnsafePointer<Float>
    let shape: ConvShape
    let start: Int
    let columns: UnsafeMutablePointer<Float>

    func run(_ rows: Range<Int>) {
      im2col(
        x, shape, rows: start + rows.lowerBound, count: rows.count,
        into: columns + rows.lowerBound * shape.patchSize)
    }
  }

  struct Col2im: ParallelJob {
    let columns: UnsafePointer<Float>
    let shape: ConvShape
    let start, count: Int
    let dx: UnsafeMutablePointer<Float>

    func run(_ channels: Range<Int>) {
      col2im(columns, shape, rows: start, count: count, channels: channels, into: dx)
    }
  }

  /// Copies the patches of output rows [start, start + count) into `columns` [count, K].
  static func im2col(
    _ x: UnsafePointer<Float>, _ shape: ConvShape, rows start: Int, count: Int,
    into columns: UnsafeMutablePointer<Float>
  ) {
    let c = shape.inputChannels
    for local in 0..<count {
      let row = columns + local * shape.patchSize
      shape.forEachPatchEntry(ofRow: start + local) { entry, pixel in
        if let pixel {
          (row + entry).update(from: x + pixel * c, count: c)
        } else {
          (row + entry).update(repeating: 0, count: c)
        }
      }
    }
  }

  /// Adds the patch gradients of rows [start, start + count) back onto dx (the adjoint of
  /// im2col), for the input channels in `channels`.
  static func col2im(
    _ columns: UnsafePointer<Float>, _ shape: ConvShape, rows start: Int, count: Int,
    channels: Range<Int>, into dx: UnsafeMutablePointer<Float>
  ) {
    let c = shape.inputChannels
    for local in 0..<count {
      let row = columns + local * shape.patchSize
      shape.forEachPatchEntry(ofRow: start + local) { entry, pixel in
        guard let pixel else { return }
        let target = dx + pixel * c
        for channel in channels { target[channel] += row[entry + channel] }
      }
    }
  }

  static func forward(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, b: UnsafePointer<Float>?,
    y: UnsafeMutablePointer<Float>, shape: ConvShape, budget: Int,
    scratch: (Int) -> UnsafeMutablePointer<Float>
  ) {
    let n = shape.outputChannels
    if let b {
      for row in 0..<shape.rows { (y + row * n).update(from: b, count: n) }
    }
    multiply(
      x: x, w: w, y: y, beta: b == nil ? 0 : 1, shape: shape, budget: budget, scratch: scratch)
  }

  /// y ← x ⊛ w + β·y: one GEMM for pointwise convolutions, im2col a chunk at a time otherwise.
  static func multiply(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
    beta: Float, shape: ConvShape, budget: Int, scratch: (Int) -> UnsafeMutablePointer<Float>
  ) {
    let n = shape.outputChannels
    let k = shape.patchSize
    if shape.geometry.isPointwise {
      gemm(
        .none, .none, m: shape.rows, n: n, k: k, a: x, lda: k, b: w, ldb: n, beta: beta, c: y,
        ldc: n)
      return
    }
    let chunk = chunkRows(shape, budget: budget)
    let columns = scratch(chunk * k)
    for start in stride(from: 0, to: shape.rows, by: chunk) {
      let count = min(chunk, shape.rows - start)
      parallelIm2col(x, shape, rows: start, count: count, into: columns)
      gemm(
        .none, .none, m: count, n: n, k: k, a: columns, lda: k, b: w, ldb: n, beta: beta,
        c: y + start * n, ldc: n)
    }
  }

  static func backward(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>?, accumulateDX: Bool, dw: UnsafeMutablePointer<Float>?,
    db: UnsafeMutablePointer<Float>?, shape: ConvShape, budget: Int,
    scratch: (Int) -> UnsafeMutablePointer<Float>
  ) {
    let n = shape.outputChannels
    let k = shape.patchSize
    if let db { addColumnSums(of: dy, rows: shape.rows, columns: n, into: db) }
    if shape.geometry.isPointwise {
      LinearKernel.backward(
        x: x, w: w, dy: dy, dx: dx, accumulateDX: accumulateDX, dw: dw, db: nil, rows: shape.rows,
        inputs: k, outputs: n)
      return
    }
    let chunk = chunkRows(shape, budget: budget)
    // dx of a stride-1 convolution is dy convolved with the flipped, transposed filters: an
    // im2col of dy and a GEMM straight into dx, instead of a GEMM into patch gradients and
    // their scatter (col2im). Where the filters outweigh dy's pixels, flipping them costs
    // more than the scatter saves.
    let transposed = dx == nil || shape.rows <= n ? nil : shape.transposed
    let transposedFloats = transposed.map { chunkRows($0, budget: budget) * $0.patchSize } ?? 0
    let columns = scratch(max(chunk * k, transposedFloats))
    if let dw {
      for start in stride(from: 0, to: shape.rows, by: chunk) {
        let count = min(chunk, shape.rows - start)
        parallelIm2col(x, shape, rows: start, count: count, into: columns)
        gemm(
          .transposed, .none, m: k, n: n, k: count, a: columns, lda: k, b: dy + start * n,
          ldb: n, beta: 1, c: dw, ldc: n)
      }
    }
    guard let dx else { return }
    if let transposed {
      let flipped = scratch(k * n)
      flipFilters(w, shape, into: flipped)
      multiply(
        x: dy, w: flipped, y: dx, beta: accumulateDX ? 1 : 0, shape: transposed, budget: budget,
        scratch: { _ in columns })
      return
    }
    if !accumulateDX {
      Tensor.fill(
        dx, count: shape.batch * shape.height * shape.width * shape.inputChannels, with: 0)
    }
    for start in stride(from: 0, to: shape.rows, by: chunk) {
      let count = min(chunk, shape.rows - start)
      gemm(
        .none, .transposed, m: count, n: k, k: n, a: dy + start * n, lda: n, b: w, ldb: n,
        beta: 0, c: columns, ldc: k)
      parallelCol2im(columns, shape, rows: start, count: count, into: dx)
    }
  }

  /// The filters of the transposed convolution: tap (KH−1−ky, KW−1−kx) of `w`, with its
  /// input and output channels swapped, at tap (ky, kx) of `flipped` ([KH, KW, Cout, Cin]).
  static func flipFilters(
    _ w: UnsafePointer<Float>, _ shape: ConvShape, into flipped: UnsafeMutablePointer<Float>
  ) {
    let g = shape.geometry
    let (inputs, outputs) = (shape.inputChannels, shape.outputChannels)
    let taps = g.kernelHeight * g.kernelWidth
    let block = 16
    for tap in 0..<taps {
      let source = w + (taps - 1 - tap) * inputs * outputs
      let target = flipped + tap * inputs * outputs
      // Blocked transpose of one tap's [Cin, Cout] matrix into [Cout, Cin].
      for i0 in stride(from: 0, to: inputs, by: block) {
        for o0 in stride(from: 0, to: outputs, by: block) {
          for o in o0..<min(o0 + block, outputs) {
            for i in i0..<min(i0 + block, inputs) {
              target[o * inputs + i] = source[i * outputs + o]
            }
          }
        }
      }
    }
  }
}

extension Tape {
  /// 2-D convolution of NHWC `x` with HWIO `weight` ([KH, KW, Cin, Cout]) and optional bias.
  public func conv2d(
    _ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1),
    padding: Padding2D = .none
  ) -> Tensor {
    precondition(
      x.shape.rank == 4 && weight.shape.rank == 4, "conv2d: x \(x.shape), W \(weight.shape)")
    precondition(
      weight.shape[2] == x.shape[3], "conv2d: \(x.shape[3]) input channels, W \(weight.shape)")
    let geometry = WindowGeometry(
      kernel: (weight.shape[0], weight.shape[1]), stride: stride, padding: padding)
    let shape = ConvShape(
      batch: x.shape[0], height: x.shape[1], width: x.shape[2], inputChannels: x.shape[3],
      outputHeight: geometry.outputHeight(x.shape[1]),
      outputWidth: geometry.outputWidth(x.shape[2]),
      outputChannels: weight.shape[3], geometry: geometry)
    precondition(
      shape.outputHeight > 0 && shape.outputWidth > 0, "conv2d: empty output for \(x.shape)")
    let y = output(
      Shape(shape.batch, shape.outputHeight, shape.outputWidth, shape.outputChannels), x, weight,
      bias)
    Conv2DKernel.forward(
      x: x.data, w: weight.data, b: bias?.data, y: y.data, shape: shape,
      budget: im2colBudget, scratch: { self.tensor(Shape($0)).data })
    forwardFLOPs += 2 * shape.rows * shape.patchSize * shape.outputChannels
    record(.conv2d(x: x, weight: weight, bias: bias, y: y, shape: shape), producing: y)
    return y
  }
}
