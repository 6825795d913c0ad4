import CGDAL
import TensorEngine

#if canImport(Glibc)
  import Glibc
#endif

extension Canvas {
  /// Writes the canvas as an RGBA PNG. The file appears atomically, like GeoTIFFs: GDAL
  /// writes a temporary file beside `path`, which is flushed and renamed over `path` only
  /// once complete.
  func writePNG(to path: String) throws(RasterError) {
    _ = gdalSetUp
    let temporaryPath = AtomicFile.temporaryPath(for: path)
    do throws(RasterError) {
      try copyToPNG(path: temporaryPath)
    } catch {
      unlink(temporaryPath)
      throw RasterError(path: path, message: error.message)
    }
    do {
      try AtomicFile.commit(temporaryPath, to: path)
    } catch {
      throw RasterError(path: path, message: error.message)
    }
  }

  /// GDAL's PNG driver only copies, so the pixels go into a MEM dataset first.
  private func copyToPNG(path: String) throws(RasterError) {
    CPLErrorReset()
    guard let memoryDriver = GDALGetDriverByName("MEM"), let pngDriver = GDALGetDriverByName("PNG")
    else {
      throw RasterError(path: path, message: "GDAL lacks the MEM or PNG driver")
    }
    guard
      let memory = GDALCreate(memoryDriver, "", Int32(width), Int32(height), 4, GDT_Byte, nil)
    else {
      throw RasterError(path: path, message: GDAL.lastError(or: "cannot create the image"))
    }
    defer { GDALClose(memory) }
    var bands: [Int32] = [1, 2, 3, 4]
    // GF_Write only reads the buffer; the mutable pointer is GDAL's signature, not a write.
    let copied = bytes.withUnsafeBytes {
      GDALDatasetRasterIO(
        memory, GF_Write, 0, 0, Int32(width), Int32(height),
        UnsafeMutableRawPointer(mutating: $0.baseAddress), Int32(width), Int32(height),
        GDT_Byte, 4, &bands, 4, Int32(width * 4), 1)
    }
    guard copied == CE_None else {
      throw RasterError(path: path, message: GDAL.lastError(or: "cannot fill the image"))
    }
    guard let png = GDALCreateCopy(pngDriver, path, memory, 0, nil, nil, nil) else {
      throw RasterError(path: path, message: GDAL.lastError(or: "PNG creation failed"))
    }
    GDALClose(png)
  }
}
