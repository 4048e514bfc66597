package vendor.i2c;

import vendor.i2c.LossReason;

/** Told once when the session dies. Oneway: a slow client never delays the service. */
@VintfStability
oneway interface II2cSessionCallback {
    void onSessionLost(in LossReason reason, @utf8InCpp String message);
}
