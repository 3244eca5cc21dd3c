"""Load the system libstdc++ into the global symbol scope before vosk, so llama.cpp keeps working.

vosk dlopens libvosk.so globally, and it exports the std::random_device of the
libstdc++ it was built with; every native library loaded after it (llama.cpp)
then binds to that copy and fails each request with "random_device could not
be read". Loaded first, the system's definitions win. Call before importing vosk.
"""

import ctypes
import os


def prefer_system_libstdcxx() -> None:
    try:
        ctypes.CDLL("libstdc++.so.6", mode=os.RTLD_GLOBAL | os.RTLD_NOW)  # the soname: no ldconfig run
    except OSError:  # not glibc/libstdc++ (then there is no vosk clash either)
        pass
