-- Every passing DKIM signing domain that names a record's sender (records.dkim_signer).
SELECT DISTINCT dkim_signer FROM records WHERE dkim_signer IS NOT NULL ORDER BY 1
