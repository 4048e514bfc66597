package vendor.i2c;

/** Why a session died. Delivered once through II2cSessionCallback.onSessionLost. */
@VintfStability
@Backing(type="int")
enum LossReason {
    /** The adapter was removed (module unplugged, driver unbound). */
    REMOVED = 1,
    /** An administrator revoked every session on the bus (e.g. before rmmod). */
    REVOKED = 2,
    /** The service is shutting down. */
    SHUTDOWN = 3,
}
