//! A service that speaks the same AIDL but answers wrongly, so the suite can show that it fails,
//! naming the check and both codes, when a service breaks the contract (host only; it serves
//! RPC binder through the binder seam, `i2c_hal_binder`, and names no binder crate).
//!
//! It lists one bus with every functionality bit and opens a session on any address. Every
//! operation succeeds at [`SILENT_ADDRESS`] (where an empty address must be `ADDRESS_NACK`) and
//! fails with `IO_ERROR` at [`WRONG_CODE_ADDRESS`] (the right kind of failure, the wrong code).

use i2c_hal_binder::aidl::{
    BusInfo::BusInfo,
    I2cMessage::I2cMessage,
    I2cReadResult::I2cReadResult,
    IBusListener::IBusListener,
    II2cManager::{BnI2cManager, II2cManager},
    II2cSession::{BnI2cSession, II2cSession},
    II2cSessionCallback::II2cSessionCallback,
    TransferResult::TransferResult,
};
use i2c_hal_binder::{self as compat, BinderResult, Interface, Strong};
use i2c_hal_client::SERVICE_NAME;
use i2c_hal_core::ErrorCode;
use i2c_hal_service::transport::frames::FrameLimits;
use std::os::unix::net::UnixListener;
use std::path::Path;

/// Where every operation wrongly succeeds.
pub const SILENT_ADDRESS: u16 = 0x30;
/// Where every operation fails with IO_ERROR instead of ADDRESS_NACK.
pub const WRONG_CODE_ADDRESS: u16 = 0x31;

struct Manager;

impl Interface for Manager {}

impl II2cManager for Manager {
    fn listBuses(&self) -> BinderResult<Vec<BusInfo>> {
        Ok(vec![BusInfo {
            busNumber: 0,
            name: "vts wrong-code service".into(),
            stableId: "virtual/vts-wrong-code".into(),
            generation: 1,
            // Every I2C_FUNC_* bit of the contract: nothing is refused as unsupported.
            functionality: 0x0fff_800b,
        }])
    }

    fn openSession(
        &self,
        _bus: &str,
        _generation: i64,
        address: i32,
        _flags: i32,
        _callback: &Strong<dyn II2cSessionCallback>,
    ) -> BinderResult<Strong<dyn II2cSession>> {
        Ok(BnI2cSession::new_binder(Session { address }))
    }

    fn registerBusListener(&self, _: &Strong<dyn IBusListener>) -> BinderResult<()> {
        Ok(())
    }

    fn unregisterBusListener(&self, _: &Strong<dyn IBusListener>) -> BinderResult<()> {
        Ok(())
    }
}

struct Session {
    address: i32,
}

impl Session {
    fn answer<T>(&self, value: T) -> BinderResult<T> {
        if self.address == i32::from(WRONG_CODE_ADDRESS) {
            let message = "the wrong-code service answers IO_ERROR here";
            return Err(compat::service_error(ErrorCode::IoError as i32, message));
        }
        Ok(value)
    }
}

impl Interface for Session {}

impl II2cSession for Session {
    fn transfer(&self, messages: &[I2cMessage]) -> BinderResult<TransferResult> {
        let reads = messages
            .iter()
            .filter(|m| m.read)
            .map(|m| I2cReadResult { data: vec![0; usize::try_from(m.readLength).unwrap_or(0)] })
            .collect();
        let completed = i32::try_from(messages.len()).unwrap_or(i32::MAX);
        self.answer(TransferResult { messagesCompleted: completed, reads })
    }
    fn writeRead(&self, _: &[u8], length: i32) -> BinderResult<Vec<u8>> {
        self.answer(vec![0; usize::try_from(length).unwrap_or(0)])
    }
    fn smbusQuick(&self, _: bool) -> BinderResult<()> {
        self.answer(())
    }
    fn smbusReadByte(&self) -> BinderResult<i32> {
        self.answer(0)
    }
    fn smbusWriteByte(&self, _: i32) -> BinderResult<()> {
        self.answer(())
    }
    fn smbusReadByteData(&self, _: i32) -> BinderResult<i32> {
        self.answer(0)
    }
    fn smbusWriteByteData(&self, _: i32, _: i32) -> BinderResult<()> {
        self.answer(())
    }
    fn smbusReadWordData(&self, _: i32) -> BinderResult<i32> {
        self.answer(0)
    }
    fn smbusWriteWordData(&self, _: i32, _: i32) -> BinderResult<()> {
        self.answer(())
    }
    fn smbusProcessCall(&self, _: i32, _: i32) -> BinderResult<i32> {
        self.answer(0)
    }
    fn smbusReadBlockData(&self, _: i32) -> BinderResult<Vec<u8>> {
        self.answer(vec![0])
    }
    fn smbusWriteBlockData(&self, _: i32, _: &[u8]) -> BinderResult<()> {
        self.answer(())
    }
    fn smbusBlockProcessCall(&self, _: i32, _: &[u8]) -> BinderResult<Vec<u8>> {
        self.answer(vec![0])
    }
    fn smbusReadI2cBlockData(&self, _: i32, length: i32) -> BinderResult<Vec<u8>> {
        self.answer(vec![0; usize::try_from(length).unwrap_or(0)])
    }
    fn smbusWriteI2cBlockData(&self, _: i32, _: &[u8]) -> BinderResult<()> {
        self.answer(())
    }
    fn getAllowedOperations(&self) -> BinderResult<i32> {
        Ok(0xf)
    }
    fn getBusInfo(&self) -> BinderResult<BusInfo> {
        Ok(Manager.listBuses()?.remove(0))
    }
    fn getAddress(&self) -> BinderResult<i32> {
        Ok(self.address)
    }
    fn close(&self) -> BinderResult<()> {
        Ok(())
    }
}

/// Serves the wrong-code manager on `socket` from a thread of its own, for the rest of the
/// process's life.
pub fn serve(socket: &Path) -> std::io::Result<()> {
    let listener = UnixListener::bind(socket)?;
    let manager: Strong<dyn II2cManager> = BnI2cManager::new_binder(Manager);
    std::thread::Builder::new().name("vts-wrong-code".into()).spawn(move || {
        let services = vec![(SERVICE_NAME, manager.as_binder())];
        if let Err(e) =
            i2c_hal_service::transport::serve(listener, services, 4, FrameLimits::default(), |_| {
                Some(())
            })
        {
            eprintln!("vts: the wrong-code service stopped: {e}");
        }
    })?;
    Ok(())
}
