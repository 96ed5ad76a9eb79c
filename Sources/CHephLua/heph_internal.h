/* What the C files of CHephLua share with each other and not with Swift: the making and
 * freeing of the watchdog's and the watch thread's state, which heph_info_new and
 * heph_info_free call. */
#ifndef HEPH_INTERNAL_H
#define HEPH_INTERNAL_H

#include "heph_lua.h"

heph_stop *heph_stop_new(void);
void heph_stop_free(heph_stop *stop);
heph_guard *heph_guard_new(void);
void heph_guard_free(heph_guard *guard);

#endif
