/* rb/version.h — routerbench release and ABI version numbers. */
#ifndef RB_VERSION_H
#define RB_VERSION_H

#define RB_VERSION_MAJOR 0
#define RB_VERSION_MINOR 1
#define RB_VERSION_PATCH 0
#define RB_VERSION_STRING "0.1.0"

/* Router plugin ABI: a major bump breaks plugins; a minor bump only appends fields. */
#define RB_ABI_MAJOR 1
#define RB_ABI_MINOR 1

#endif
