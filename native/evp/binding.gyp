{
  # OpenSSL's EVP API with no library to link and nothing to download: the Node binary
  # exports OpenSSL's symbols (they resolve when Node loads the addon), and the headers come
  # from the Node headers node-gyp is pointed at (--nodedir, see ../scripts/build.mjs), which
  # ship include/node/openssl. So no libssl-dev is needed to build or to run.
  "targets": [
    {
      "target_name": "parley_evp",
      "sources": ["evp_addon.c"],
      "include_dirs": ["../common"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-deprecated-declarations"]
    }
  ]
}
