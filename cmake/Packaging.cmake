# The installed product beyond the binaries (man pages, bash completion, systemd
# units, config files) and its Debian package, built by scripts/package.sh:
#
#   cmake -S . -B build/package -DCMAKE_INSTALL_PREFIX=/usr ...; cpack -G DEB
#
# With the /usr prefix the config files go to /etc/newswire (GNUInstallDirs).

set(NW_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)

# Man pages: roff in docs/man, compressed as Debian ships them.
set(NW_MAN_PAGES newswire-pub.1 newswire-sub.1 newswire-proxy.1 newswire-keygen.1
                  newswire-train.1 newswire.7)
set(NW_MAN_GZ "")
foreach(page ${NW_MAN_PAGES})
  set(out ${CMAKE_BINARY_DIR}/man/${page}.gz)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND sh -c "gzip -9n -c \"$0\" >\"$1\"" ${PROJECT_SOURCE_DIR}/docs/man/${page} ${out}
    DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/${page}
    COMMENT "Compressing the man page ${page}" VERBATIM)
  string(REGEX MATCH "[0-9]$" section ${page})
  install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  list(APPEND NW_MAN_GZ ${out})
endforeach()
add_custom_target(nw_man_pages ALL DEPENDS ${NW_MAN_GZ})

install(FILES ${NW_PACKAGING_DIR}/bash-completion/newswire-pub
              ${NW_PACKAGING_DIR}/bash-completion/newswire-sub
              ${NW_PACKAGING_DIR}/bash-completion/newswire-proxy
              ${NW_PACKAGING_DIR}/bash-completion/newswire-keygen
              ${NW_PACKAGING_DIR}/bash-completion/newswire-train
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${NW_PACKAGING_DIR}/systemd/newswire-pub.service
              ${NW_PACKAGING_DIR}/systemd/newswire-sub@.service
        DESTINATION lib/systemd/system)

set(NW_CONFFILES newswire-pub.conf newswire-sub.conf sub-log.conf)
set(NW_CONFFILES_LIST "")
foreach(conf ${NW_CONFFILES})
  install(FILES ${NW_PACKAGING_DIR}/etc/${conf}
          DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/newswire)
  string(APPEND NW_CONFFILES_LIST "${CMAKE_INSTALL_FULL_SYSCONFDIR}/newswire/${conf}\n")
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/debian/conffiles "${NW_CONFFILES_LIST}")

# --- the .deb ---------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME newswire)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "newswire")
set(CPACK_PACKAGE_CONTACT "newswire maintainers <newswire@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "topic-tagged news alerts over ZeroMQ")
set(CPACK_PACKAGE_DESCRIPTION
    "newswire-pub watches a spool folder for news articles, splits each into
alerts (headline, key points, paragraphs), tags them with topics, journals
them and publishes them on ZeroMQ with MessagePack bodies. newswire-sub
subscribes to topics and prints, logs or hands on the alerts, detecting and
repairing loss from the publisher's journal. newswire-proxy fans the
alerts out to more subscribers across hosts; newswire-keygen makes CURVE key
pairs for encrypted, authenticated endpoints.

Includes systemd units (newswire-pub.service, newswire-sub@.service), config
files under /etc/newswire, man pages and bash completion.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/newswire/newswire")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# useradd and groupadd for the postinst; libmicrohttpd, which the daemons dlopen for
# --metrics-bind, so dpkg-shlibdeps does not see it: Debian names the package of
# libNAME.so.N "libNAMEN" ("libNAME-N" when NAME ends in a digit).
if(NOT NW_MHD_SONAME MATCHES "^lib(.+)\\.so\\.([0-9]+)$")
  message(FATAL_ERROR "cannot derive a Debian package name from ${NW_MHD_SONAME}")
endif()
set(nw_mhd_name ${CMAKE_MATCH_1})
set(nw_mhd_version ${CMAKE_MATCH_2})
if(nw_mhd_name MATCHES "[0-9]$")
  set(nw_mhd_package "lib${nw_mhd_name}-${nw_mhd_version}")
else()
  set(nw_mhd_package "lib${nw_mhd_name}${nw_mhd_version}")
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd, ${nw_mhd_package}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${NW_PACKAGING_DIR}/debian/postinst ${NW_PACKAGING_DIR}/debian/prerm
    ${NW_PACKAGING_DIR}/debian/postrm ${CMAKE_BINARY_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
include(CPack)
