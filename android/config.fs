# The I2C HAL's own vendor uid and group, so that it runs as neither root nor system. A device
# adds this file with TARGET_FS_CONFIG_GEN += <this directory>/android/config.fs (vendor AIDs
# live in 2900-2999 or 5000-5999; change the value if the device already uses 2912).
[AID_VENDOR_I2C]
value: 2912
