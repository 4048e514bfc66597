package vendor.i2c;

import vendor.i2c.BusInfo;

/** Hot-plug notifications. Oneway: a slow listener never delays the service. */
@VintfStability
oneway interface IBusListener {
    void onBusAdded(in BusInfo bus);
    void onBusRemoved(in BusInfo bus);
}
