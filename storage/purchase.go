package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/kopilka/kopilka"
)

func (t *Tx) InsertPurchase(ctx context.Context, p *kopilka.Purchase) error {
	spends, _ := json.Marshal(p.Spends)
	quote, _ := json.Marshal(p.Quote)
	var b batch
	b.add("purchases", `INSERT INTO purchases
		(receipt_id, member_id, store_id, card_number, request_hash, status, tx_id, earn_lot_id, spends, quote, occurred_at, created_at, earned_reversed, partner_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13)`,
		p.ReceiptID, p.MemberID, p.StoreID, nullString(p.CardNumber), p.RequestHash, p.Status, p.TxID,
		nullString(p.EarnLotID), string(spends), string(quote), micros(p.OccurredAt), micros(p.CreatedAt), p.PartnerID)
	args := make([]any, 0, 11*len(p.Lines))
	for _, l := range p.Lines {
		args = append(args, p.ReceiptID, p.PartnerID, l.Line.Line, l.SKU, l.Category, int64(l.Quantity), l.Price, l.Amount, l.Earned, l.Spent, int64(l.Refunded))
	}
	b.add("purchase_lines", `INSERT INTO purchase_lines
		(receipt_id, partner_id, line, sku, category, quantity, price, amount, earned, spent, refunded) VALUES `+values(len(p.Lines), 11, 1), args...)
	return t.mapErr(t.exec(ctx, b), "purchase")
}

// PurchasePartners returns the partners (at most limit) that have a purchase
// with the receipt id, in order.
func (t *Tx) PurchasePartners(ctx context.Context, receiptID string, limit int) ([]string, error) {
	return t.ids(ctx, `SELECT partner_id FROM purchases WHERE receipt_id = $1 ORDER BY partner_id LIMIT $2`, receiptID, limit)
}

func (t *Tx) Purchase(ctx context.Context, partnerID, receiptID string) (*kopilka.Purchase, error) {
	p := &kopilka.Purchase{}
	var card, lot sql.NullString
	var spends, quote string
	var occurred, created int64
	err := t.row(ctx, `SELECT receipt_id, member_id, store_id, card_number, request_hash, status, tx_id,
		earn_lot_id, spends, quote, occurred_at, created_at, earned_reversed, partner_id FROM purchases
		WHERE receipt_id = $1 AND partner_id = $2`, receiptID, partnerID).
		Scan(&p.ReceiptID, &p.MemberID, &p.StoreID, &card, &p.RequestHash, &p.Status, &p.TxID, &lot, &spends, &quote, &occurred, &created, &p.EarnedReversed, &p.PartnerID)
	if err != nil {
		return nil, notFound(err, "purchase")
	}
	p.CardNumber, p.EarnLotID, p.OccurredAt, p.CreatedAt = card.String, lot.String, fromMicros(occurred), fromMicros(created)
	if err := json.Unmarshal([]byte(spends), &p.Spends); err != nil {
		return nil, fmt.Errorf("purchase %s spends: %w", receiptID, err)
	}
	if err := json.Unmarshal([]byte(quote), &p.Quote); err != nil {
		return nil, fmt.Errorf("purchase %s quote: %w", receiptID, err)
	}
	rows, err := t.query(ctx, `SELECT line, sku, category, quantity, price, amount, earned, spent, refunded
		FROM purchase_lines WHERE receipt_id = $1 AND partner_id = $2 ORDER BY line`, receiptID, partnerID)
	if err != nil {
		return nil, fmt.Errorf("purchase lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l kopilka.PurchaseLine
		var qty, refunded int64
		if err := rows.Scan(&l.Line.Line, &l.SKU, &l.Category, &qty, &l.Price, &l.Amount, &l.Earned, &l.Spent, &refunded); err != nil {
			return nil, err
		}
		l.Quantity, l.Refunded = kopilka.Quantity(qty), kopilka.Quantity(refunded)
		p.Lines = append(p.Lines, l)
	}
	return p, rows.Err()
}

func (t *Tx) UpdatePurchase(ctx context.Context, p *kopilka.Purchase) error {
	spends, _ := json.Marshal(p.Spends)
	n, err := t.execNow(ctx, `UPDATE purchases SET status = $3, spends = $4, earned_reversed = $5 WHERE receipt_id = $1 AND partner_id = $2`,
		p.ReceiptID, p.PartnerID, p.Status, string(spends), p.EarnedReversed)
	if err != nil {
		return t.mapErr(err, "purchase")
	}
	if err := mustAffect(n, "purchase"); err != nil {
		return err
	}
	for _, l := range p.Lines {
		if _, err := t.execNow(ctx, `UPDATE purchase_lines SET refunded = $4 WHERE receipt_id = $1 AND partner_id = $2 AND line = $3 AND refunded <> $4`,
			p.ReceiptID, p.PartnerID, l.Line.Line, int64(l.Refunded)); err != nil {
			return t.mapErr(err, "purchase line")
		}
	}
	return nil
}

func (t *Tx) InsertRefund(ctx context.Context, r *kopilka.RefundRecord) error {
	result, _ := json.Marshal(r.Result)
	_, err := t.execNow(ctx, `INSERT INTO refunds (receipt_id, partner_id, refund_id, request_hash, tx_id, result, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.ReceiptID, r.PartnerID, r.RefundID, r.RequestHash, r.TxID, string(result), micros(r.CreatedAt))
	return t.mapErr(err, "refund")
}

func (t *Tx) Refund(ctx context.Context, partnerID, receiptID, refundID string) (*kopilka.RefundRecord, error) {
	r := &kopilka.RefundRecord{}
	var result string
	var created int64
	err := t.row(ctx, `SELECT receipt_id, partner_id, refund_id, request_hash, tx_id, result, created_at
		FROM refunds WHERE receipt_id = $1 AND partner_id = $2 AND refund_id = $3`, receiptID, partnerID, refundID).
		Scan(&r.ReceiptID, &r.PartnerID, &r.RefundID, &r.RequestHash, &r.TxID, &result, &created)
	if err != nil {
		return nil, notFound(err, "refund")
	}
	r.CreatedAt = fromMicros(created)
	return r, json.Unmarshal([]byte(result), &r.Result)
}

// Refunds returns the refunds of the partner's purchase, oldest first (a
// purchase's lines bound how many there can be).
func (t *Tx) Refunds(ctx context.Context, partnerID, receiptID string) ([]kopilka.RefundRecord, error) {
	rows, err := t.query(ctx, `SELECT receipt_id, partner_id, refund_id, request_hash, tx_id, result, created_at
		FROM refunds WHERE receipt_id = $1 AND partner_id = $2 ORDER BY created_at, refund_id LIMIT 1000`, receiptID, partnerID)
	return collect(rows, err, "refunds", scanRefund)
}

// scanRefund reads a refund: receipt, partner, refund id, request hash,
// transaction, result and time.
func scanRefund(s Scanner) (kopilka.RefundRecord, error) {
	var r kopilka.RefundRecord
	var result string
	var created int64
	if err := s.Scan(&r.ReceiptID, &r.PartnerID, &r.RefundID, &r.RequestHash, &r.TxID, &result, &created); err != nil {
		return r, err
	}
	r.CreatedAt = fromMicros(created)
	return r, json.Unmarshal([]byte(result), &r.Result)
}
