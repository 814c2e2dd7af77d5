//! Identity and access: sign-in identities, sessions, sign-in links and OIDC flows, rate
//! limits, staff roles and invitations, the mail outbox, and the hash-chained audit log.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261125_000001_base::{Events, Organizations, People};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Identities {
    Table,
    Id,
    PersonId,
    Provider,
    Subject,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    TokenHash,
    PersonId,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum SigninRequests {
    Table,
    Id,
    Email,
    EmailNormalized,
    CreatedAt,
    ProcessedAt,
}

#[derive(DeriveIden)]
enum LoginLinks {
    Table,
    Id,
    TokenHash,
    PersonId,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum OidcFlows {
    Table,
    Id,
    StateHash,
    Provider,
    PkceVerifier,
    Nonce,
    ReturnTo,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum RateLimitHits {
    Table,
    Id,
    Bucket,
    At,
}

#[derive(DeriveIden)]
enum StaffRoles {
    Table,
    Id,
    PersonId,
    OrganizationId,
    EventId,
    Role,
    GrantedBy,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    TokenHash,
    OrganizationId,
    EventId,
    Role,
    Email,
    EmailNormalized,
    InvitedBy,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
    AcceptedBy,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Kind,
    ToAddress,
    Subject,
    BodyText,
    BodyHtml,
    Attachments,
    CreatedAt,
    NextAttemptAt,
    Attempts,
    LastError,
    SentAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Seq,
    At,
    ActorId,
    Action,
    SubjectType,
    SubjectId,
    Detail,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum ServerSecrets {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    Seq,
    Hash,
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from_table, from_col).to(to_table, to_col).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Identities::Table)
                .col(uuid(Identities::Id).primary_key())
                .col(uuid(Identities::PersonId))
                .col(string_len(Identities::Provider, 300))
                .col(string_len(Identities::Subject, 300))
                .col(timestamp_with_time_zone(Identities::CreatedAt))
                .foreign_key(&mut fk(Identities::Table, Identities::PersonId, People::Table, People::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_identities_provider_subject")
                .table(Identities::Table)
                .col(Identities::Provider)
                .col(Identities::Subject)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(uuid(Sessions::Id).primary_key())
                .col(string_len_uniq(Sessions::TokenHash, 64))
                .col(uuid(Sessions::PersonId))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                .foreign_key(&mut fk(Sessions::Table, Sessions::PersonId, People::Table, People::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_sessions_person").table(Sessions::Table).col(Sessions::PersonId).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SigninRequests::Table)
                .col(uuid(SigninRequests::Id).primary_key())
                .col(string_len(SigninRequests::Email, 254))
                .col(string_len(SigninRequests::EmailNormalized, 254))
                .col(timestamp_with_time_zone(SigninRequests::CreatedAt))
                .col(timestamp_with_time_zone_null(SigninRequests::ProcessedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_signin_requests_pending")
                .table(SigninRequests::Table)
                .col(SigninRequests::ProcessedAt)
                .col(SigninRequests::CreatedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LoginLinks::Table)
                .col(uuid(LoginLinks::Id).primary_key())
                .col(string_len_uniq(LoginLinks::TokenHash, 64))
                .col(uuid(LoginLinks::PersonId))
                .col(timestamp_with_time_zone(LoginLinks::CreatedAt))
                .col(timestamp_with_time_zone(LoginLinks::ExpiresAt))
                .col(timestamp_with_time_zone_null(LoginLinks::UsedAt))
                .foreign_key(&mut fk(LoginLinks::Table, LoginLinks::PersonId, People::Table, People::Id))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OidcFlows::Table)
                .col(uuid(OidcFlows::Id).primary_key())
                .col(string_len_uniq(OidcFlows::StateHash, 64))
                .col(string_len(OidcFlows::Provider, 64))
                .col(string_len(OidcFlows::PkceVerifier, 200))
                .col(string_len(OidcFlows::Nonce, 100))
                .col(string_len(OidcFlows::ReturnTo, 500))
                .col(timestamp_with_time_zone(OidcFlows::CreatedAt))
                .col(timestamp_with_time_zone(OidcFlows::ExpiresAt))
                .col(timestamp_with_time_zone_null(OidcFlows::UsedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RateLimitHits::Table)
                .col(uuid(RateLimitHits::Id).primary_key())
                .col(string_len(RateLimitHits::Bucket, 100))
                .col(timestamp_with_time_zone(RateLimitHits::At))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_rate_limit_hits_bucket_at")
                .table(RateLimitHits::Table)
                .col(RateLimitHits::Bucket)
                .col(RateLimitHits::At)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(StaffRoles::Table)
                .col(uuid(StaffRoles::Id).primary_key())
                .col(uuid(StaffRoles::PersonId))
                .col(uuid(StaffRoles::OrganizationId))
                .col(uuid_null(StaffRoles::EventId))
                .col(string_len(StaffRoles::Role, 20))
                .col(uuid_null(StaffRoles::GrantedBy))
                .col(timestamp_with_time_zone(StaffRoles::CreatedAt))
                .col(timestamp_with_time_zone_null(StaffRoles::RevokedAt))
                .foreign_key(&mut fk(StaffRoles::Table, StaffRoles::PersonId, People::Table, People::Id))
                .foreign_key(&mut fk(
                    StaffRoles::Table,
                    StaffRoles::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .foreign_key(&mut fk(StaffRoles::Table, StaffRoles::EventId, Events::Table, Events::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_staff_roles_person").table(StaffRoles::Table).col(StaffRoles::PersonId).to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_staff_roles_org_event")
                .table(StaffRoles::Table)
                .col(StaffRoles::OrganizationId)
                .col(StaffRoles::EventId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Invitations::Table)
                .col(uuid(Invitations::Id).primary_key())
                .col(string_len_uniq(Invitations::TokenHash, 64))
                .col(uuid(Invitations::OrganizationId))
                .col(uuid_null(Invitations::EventId))
                .col(string_len(Invitations::Role, 20))
                .col(string_len(Invitations::Email, 254))
                .col(string_len(Invitations::EmailNormalized, 254))
                .col(uuid(Invitations::InvitedBy))
                .col(timestamp_with_time_zone(Invitations::CreatedAt))
                .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                .col(uuid_null(Invitations::AcceptedBy))
                .foreign_key(&mut fk(
                    Invitations::Table,
                    Invitations::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .foreign_key(&mut fk(Invitations::Table, Invitations::EventId, Events::Table, Events::Id))
                .foreign_key(&mut fk(Invitations::Table, Invitations::InvitedBy, People::Table, People::Id))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(uuid(Outbox::Id).primary_key())
                .col(string_len(Outbox::Kind, 50))
                .col(string_len(Outbox::ToAddress, 254))
                .col(string_len(Outbox::Subject, 300))
                .col(text(Outbox::BodyText))
                .col(text_null(Outbox::BodyHtml))
                .col(text_null(Outbox::Attachments))
                .col(timestamp_with_time_zone(Outbox::CreatedAt))
                .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                .col(integer(Outbox::Attempts).default(0))
                .col(string_len_null(Outbox::LastError, 500))
                .col(timestamp_with_time_zone_null(Outbox::SentAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_outbox_due")
                .table(Outbox::Table)
                .col(Outbox::SentAt)
                .col(Outbox::NextAttemptAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(big_integer(AuditLog::Seq).primary_key())
                .col(timestamp_with_time_zone(AuditLog::At))
                .col(uuid_null(AuditLog::ActorId))
                .col(string_len(AuditLog::Action, 100))
                .col(string_len(AuditLog::SubjectType, 50))
                .col(uuid_null(AuditLog::SubjectId))
                .col(text(AuditLog::Detail))
                .col(string_len(AuditLog::PrevHash, 64))
                .col(string_len(AuditLog::Hash, 64))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_audit_subject")
                .table(AuditLog::Table)
                .col(AuditLog::SubjectType)
                .col(AuditLog::SubjectId)
                .to_owned(),
        )
        .await?;

        // Random values made once per installation and shared by every instance (e.g. the
        // key that turns client addresses into rate-limit keys).
        m.create_table(
            Table::create()
                .table(ServerSecrets::Table)
                .col(string_len(ServerSecrets::Name, 50).primary_key())
                .col(string_len(ServerSecrets::Value, 200))
                .to_owned(),
        )
        .await?;

        // The chain's head: one row, locked by every append so appends are serialized.
        m.create_table(
            Table::create()
                .table(AuditHead::Table)
                .col(integer(AuditHead::Id).primary_key())
                .col(big_integer(AuditHead::Seq))
                .col(string_len(AuditHead::Hash, 64))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(AuditHead::Table)
                .columns([AuditHead::Id, AuditHead::Seq, AuditHead::Hash])
                .values_panic([1.into(), 0i64.into(), "0".repeat(64).into()])
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditHead::Table.into_iden(),
            ServerSecrets::Table.into_iden(),
            AuditLog::Table.into_iden(),
            Outbox::Table.into_iden(),
            Invitations::Table.into_iden(),
            StaffRoles::Table.into_iden(),
            RateLimitHits::Table.into_iden(),
            OidcFlows::Table.into_iden(),
            LoginLinks::Table.into_iden(),
            SigninRequests::Table.into_iden(),
            Sessions::Table.into_iden(),
            Identities::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
