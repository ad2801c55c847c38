{
  "targets": [
    {
      "target_name": "mixloss",
      "sources": [
        "native/core/cpu_limits.cpp",
        "native/core/fused_loss.cpp",
        "native/core/memory_baseline.cpp",
        "native/core/row_blocks.cpp",
        "native/core/row_blocks_avx2.cpp",
        "native/core/row_blocks_avx512.cpp",
        "native/core/row_plan.cpp",
        "native/core/thread_pool.cpp",
        "native/core/vector_exp.cpp",
        "native/core/information/renyi.cpp",
        "native/core/information/renyi_base.cpp",
        "native/core/head/head.cpp",
        "native/core/head/gemm_floor.cpp",
        "native/core/head/gemm.cpp",
        "native/core/head/gemm_base.cpp",
        "native/addon/addon.cc",
        "native/addon/information.cc",
        "native/addon/head.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/core", "/usr/include/eigen3", "/usr/local/include/eigen3"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++1y", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd"],
      "ldflags": ["-Wl,-z,nodelete"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd"]
      }
    }
  ]
}
