//! Payments waiting for the next round, with their running total, so checking a new payment
//! against the balance costs O(1) however many are queued.

use std::collections::VecDeque;

use super::{error::EngineError, types::Payment};

#[derive(Clone, Debug, Default)]
pub struct PaymentQueue {
    payments: VecDeque<Payment>,
    total: u64,
}

impl PaymentQueue {
    pub fn len(&self) -> usize {
        self.payments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.payments.is_empty()
    }

    /// Queues `payment` last, if the queue's total stays within `limit`.
    pub fn push_within(&mut self, payment: Payment, limit: u64) -> Result<(), EngineError> {
        let total = self
            .total
            .checked_add(payment.amount)
            .ok_or(EngineError::Overflow)?;
        if total > limit {
            return Err(EngineError::InsufficientBalance);
        }
        self.total = total;
        self.payments.push_back(payment);
        Ok(())
    }

    /// Puts payments of a failed round back first, in their order. They were within the
    /// balance when queued, so the total cannot overflow.
    pub fn requeue(&mut self, payments: &[Payment]) {
        for payment in payments.iter().rev() {
            self.total = self.total.saturating_add(payment.amount);
            self.payments.push_front(*payment);
        }
    }

    /// Takes up to `count` payments from the front.
    pub fn take_front(&mut self, count: usize) -> Vec<Payment> {
        let count = count.min(self.payments.len());
        let taken: Vec<Payment> = self.payments.drain(..count).collect();
        let amount: u64 = taken.iter().map(|p| p.amount).sum();
        self.total = self.total.saturating_sub(amount);
        taken
    }

    /// Drops every queued payment (the channel is closing), returning them.
    pub fn take_all(&mut self) -> Vec<Payment> {
        self.total = 0;
        self.payments.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment(amount: u64) -> Payment {
        Payment {
            id: [amount as u8; 16],
            amount,
        }
    }

    #[test]
    fn the_running_total_follows_every_change() {
        let mut queue = PaymentQueue::default();
        queue.push_within(payment(5), 10).expect("fits");
        queue.push_within(payment(5), 10).expect("fits exactly");
        assert_eq!(
            queue.push_within(payment(1), 10),
            Err(EngineError::InsufficientBalance)
        );
        let taken = queue.take_front(1);
        assert_eq!((queue.len(), queue.total), (1, 5));
        queue.requeue(&taken);
        assert_eq!((queue.len(), queue.total), (2, 10));
        assert_eq!(queue.take_all().len(), 2);
        assert_eq!((queue.len(), queue.total), (0, 0));
        assert_eq!(queue.push_within(payment(u64::MAX), u64::MAX), Ok(()));
        assert_eq!(
            queue.push_within(payment(1), u64::MAX),
            Err(EngineError::Overflow)
        );
    }
}
