DELETE FROM dkim_senders
