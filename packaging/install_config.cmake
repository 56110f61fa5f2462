# SPDX-License-Identifier: Apache-2.0
# Installs the pam_wif.conf and pam_wif.map templates (packaging/config)
# into WIF_CONFIG_DIR, each only where no file of that name exists: an
# administrator's configuration is never replaced. Set by the caller:
# WIF_CONFIG_DIR, WIF_CONFIG_TEMPLATES.
foreach(name pam_wif.conf pam_wif.map)
  set(dest "$ENV{DESTDIR}${WIF_CONFIG_DIR}/${name}")
  if(EXISTS "${dest}" OR IS_SYMLINK "${dest}")
    message(STATUS "Keeping: ${dest} (exists; the template is not installed)")
  else()
    # file(INSTALL) adds DESTDIR itself. 0644: the module refuses a
    # configuration that group or others can write.
    file(INSTALL DESTINATION "${WIF_CONFIG_DIR}" TYPE FILE
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
         FILES "${WIF_CONFIG_TEMPLATES}/${name}")
  endif()
endforeach()
