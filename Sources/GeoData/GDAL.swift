import CGDAL

/// GDAL's process-wide set-up, done once on first use: register the drivers and route
/// GDAL's diagnostics to our errors instead of its default stderr printer.
let gdalSetUp: Void = {
  GDALAllRegister()
  CPLSetErrorHandler(CPLQuietErrorHandler)
}()

enum GDAL {
  /// Release name, e.g. "3.6.2".
  static var release: String {
    _ = gdalSetUp
    return String(cString: GDALVersionInfo("RELEASE_NAME"))
  }

  /// The last message GDAL reported on this thread, or `fallback` when it said nothing.
  static func lastError(or fallback: String) -> String {
    let message = String(cString: CPLGetLastErrorMsg())
    CPLErrorReset()
    return message.isEmpty ? fallback : message
  }

  /// Builds a NULL-terminated GDAL option list ("KEY=VALUE" strings), hands it to `body`
  /// and frees it afterwards.
  static func withOptions<R>(
    _ options: [String: String],
    _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) throws -> R
  ) rethrows -> R {
    var list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
    for (key, value) in options.sorted(by: { $0.key < $1.key }) {
      list = CSLSetNameValue(list, key, value)
    }
    defer { CSLDestroy(list) }
    return try body(list)
  }
}

/// The version of the GDAL library this build links, e.g. "GDAL 3.6.2, released 2023/01/02".
public var gdalVersion: String {
  _ = gdalSetUp
  return String(cString: GDALVersionInfo("--version"))
}
