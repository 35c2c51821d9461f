# Fails when a source file of one layer includes what its layer may not see.
# Run by the build before a layer compiles (see pgvrrpd_layer() in the top
# CMakeLists.txt) and by ctest on a deliberately bad fixture.
#
#   -DLAYER=name        the layer, for messages
#   -DDIR=path          the folder that holds the layer's files
#   -DALLOWED=a/|b/     in-tree folders (prefixes of "..." includes) it may use
#   -DPURE=ON|OFF       a pure layer sees only the C++ standard library,
#                       fmt and SYSTEM_HEADERS: no libnl, libpq or OS header
#   -DSYSTEM_HEADERS=x.h|y.h   the <...> headers a pure layer may add
#   -DSTAMP=file        written when every file passes
cmake_minimum_required(VERSION 3.25)

string(REPLACE "|" ";" allowed "${ALLOWED}")
string(REPLACE "|" ", " allowed_text "${ALLOWED}")
string(REPLACE "|" ";" system_headers "${SYSTEM_HEADERS}")
file(GLOB files "${DIR}/*.h" "${DIR}/*.cc")
list(SORT files)

set(problems "")
set(extra "")
if(SYSTEM_HEADERS)
  string(REPLACE "|" ", " extra ", ${SYSTEM_HEADERS}")
endif()
foreach(file IN LISTS files)
  file(STRINGS "${file}" lines)
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\"")
      set(header "${CMAKE_MATCH_1}")
      set(ok FALSE)
      foreach(prefix IN LISTS allowed)
        string(FIND "${header}" "${prefix}" at)
        if(at EQUAL 0)
          set(ok TRUE)
        endif()
      endforeach()
      if(NOT ok)
        string(APPEND problems "${file}:${number}: layer ${LAYER} may not include \"${header}\" "
               "(it may use: ${allowed_text})\n")
      endif()
    elseif(PURE AND line MATCHES "^[ \t]*#[ \t]*include[ \t]*<([^>]+)>")
      set(header "${CMAKE_MATCH_1}")
      # The C++ standard library's headers have no extension; fmt is the
      # formatting library every layer uses.
      if(NOT header MATCHES "^[a-z_]+$" AND NOT header MATCHES "^fmt/"
         AND NOT header IN_LIST system_headers)
        string(APPEND problems "${file}:${number}: layer ${LAYER} is pure and may not include "
               "<${header}> (only the C++ standard library, fmt/${extra})\n")
      endif()
    endif()
  endforeach()
endforeach()

if(problems)
  # NOTICE prints as is; FATAL_ERROR would re-wrap the file:line lines.
  message(NOTICE "${problems}")
  message(FATAL_ERROR "layer ${LAYER}: includes above break the layering (README, Layout)")
endif()
if(STAMP)
  file(WRITE "${STAMP}" "ok\n")
endif()
