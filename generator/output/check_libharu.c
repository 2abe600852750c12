/* Compiled (syntax only) before the library: the PDF backend reaches into libharu 2.3's structs. */
#include <hpdf.h>

#if HPDF_VERSION_ID < 20300 || HPDF_VERSION_ID >= 20400
#error "vipgen needs libharu 2.3.x (Debian 12's libhpdf-dev 2.3.0): its PDF backend relies on 2.3's struct layouts"
#endif
