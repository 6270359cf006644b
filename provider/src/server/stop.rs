//! Stop: Terraform was interrupted. Long operations watch the flag and give up.

use tokio::sync::watch;

use crate::protocol::tfplugin5 as pb;

pub(super) fn handle(stop: &watch::Sender<bool>) -> pb::stop::Response {
    stop.send_replace(true);
    tracing::info!("stop requested by Terraform");
    pb::stop::Response { error: String::new() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::test_support::*;

    #[test]
    fn stop_flips_the_flag_seen_by_operations() {
        let (tx, rx) = watch::channel(false);
        assert!(super::handle(&tx).error.is_empty());
        assert!(*rx.borrow());
    }

    #[test]
    fn operations_in_flight_see_the_stop() {
        let svc = fake_service();
        let ctx = svc.ctx(None);
        assert!(!*ctx.stop.borrow());
        assert!(super::handle(&svc.stop_tx).error.is_empty());
        block_on(ctx.stopped());
        assert!(*svc.ctx(None).stop.borrow(), "and so do later ones");
    }
}
