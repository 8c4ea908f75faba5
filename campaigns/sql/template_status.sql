-- The latest decision on one template version, and whether it was taken on the version's current content.
SELECT a.decision, a.actor, a.decided_at, a.expires_at, a.reason, a.content_sha256 = t.content_sha256
FROM campaigns.template_approvals a JOIN campaigns.templates t USING (template_id, version)
WHERE template_id = $template_id AND version = $version
ORDER BY a.decided_at DESC, a.decision = 'submitted'
LIMIT 1
